// pino-roll ships no types; this is the part Gantry uses (see its README).
declare module 'pino-roll' {
  import type SonicBoom from 'sonic-boom';

  export interface PinoRollOptions {
    /** `/var/log/gantry/gantry.log` writes gantry.1.log, gantry.2.log, … in that folder. */
    file: string;
    /** A number (MB) or a string with k, m or g. */
    size?: string | number;
    frequency?: 'daily' | 'hourly' | number;
    extension?: string;
    symlink?: boolean;
    /** `count`: files kept besides the one in use. */
    limit?: { count?: number; removeOtherLogFiles?: boolean };
    mkdir?: boolean;
    /** Passed to sonic-boom: the mode new files are created with. */
    mode?: number;
  }

  export default function pinoRoll(opts: PinoRollOptions): Promise<SonicBoom>;
}
