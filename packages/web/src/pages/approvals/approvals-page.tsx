import { Link, useSearchParams } from 'wouter';
import { ErrorNote, Loading } from '../../components/ui';
import { ApprovalCard } from './approval-card';
import { type ApprovalRequest, useApprovalRequest, usePendingApprovals } from './approval-queries';

/** Every deployment waiting for approval, oldest first; `?app=&env=` narrows it. */
export function ApprovalsPage() {
  const [params] = useSearchParams();
  const app = params.get('app') ?? undefined;
  const env = params.get('env') ?? undefined;
  const pending = usePendingApprovals({ app, env });
  return (
    <div className="stack area-page">
      <h1>Approvals</h1>
      <p className="small muted">
        Deployments to protected environments wait here until enough of the approvers named in gantry.yaml
        approve their artifact.
        {app ? (
          <>
            {' '}
            Showing {app}
            {env ? ` ${env}` : ''} only: <Link href="/approvals">show all</Link>.
          </>
        ) : null}
      </p>
      <ErrorNote error={pending.error} />
      {pending.isPending ? <Loading what="the approvals" /> : null}
      {pending.data?.length === 0 ? <p className="panel">Nothing waits for approval.</p> : null}
      {pending.data?.length ? (
        <ul className="approval-list" aria-label="Waiting for approval">
          {pending.data.map((r: ApprovalRequest) => (
            <li key={r.deploymentId} className="panel">
              <ApprovalCard req={r} showTitle />
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** The approval section of a deployment page: shown for a deployment that waited or waits. */
export function ApprovalSection({ id, expiresAt }: { id: string; expiresAt: string | null }) {
  const req = useApprovalRequest(id);
  return (
    <section className="panel" aria-labelledby="approval-h" data-testid="approval-section">
      <h2 id="approval-h">Approval</h2>
      <ErrorNote error={req.error} />
      {req.isPending ? <Loading what="the approvals" /> : null}
      {req.data ? <ApprovalCard req={req.data} expiresAt={expiresAt} /> : null}
    </section>
  );
}
