import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useSession } from '../../api/session';
import { setEnvironment } from './toggle-api';

/**
 * A toggle's on/off in one environment. The change goes to the server at once (the same route as
 * `gantry toggles enable`); the switch shows the server's state, not a guess.
 */
export function EnvSwitch({
  app,
  toggle,
  env,
  enabled,
  onError,
}: {
  app: string;
  toggle: string;
  env: string;
  enabled: boolean;
  onError: (e: unknown) => void;
}) {
  const session = useSession();
  const qc = useQueryClient();
  const m = useMutation({
    mutationFn: (on: boolean) => setEnvironment(app, toggle, env, { enabled: on }),
    onMutate: () => onError(null),
    onSuccess: (t) => {
      qc.setQueryData(['toggle', app, toggle], t);
      void qc.invalidateQueries({ queryKey: ['toggles', app] });
    },
    onError,
  });
  const allowed = session.can('toggles:write');
  const shown = m.isPending && m.variables !== undefined ? m.variables : enabled;
  return (
    <input
      type="checkbox"
      role="switch"
      aria-checked={shown}
      aria-label={`${toggle} in ${env}`}
      title={allowed ? undefined : 'You may not change toggles (needs toggles:write)'}
      checked={shown}
      disabled={!allowed || m.isPending}
      onChange={(e) => m.mutate(e.target.checked)}
    />
  );
}
