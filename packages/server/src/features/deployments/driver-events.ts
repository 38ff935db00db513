import type { EventType } from '@gantry/contracts';
import type { DriverEvent } from '@gantry/driver-api';

/** The event a driver's report of an app outside a deployment is recorded as. */
export function driverEventType(type: DriverEvent['type']): EventType {
  return type === 'crashed'
    ? 'environment.app_crashed'
    : type === 'restarted'
      ? 'environment.app_restarted'
      : 'environment.app_gave_up';
}
