import { Link } from 'wouter';
import { useSession } from '../../api/session';
import { Badge, ShortSha } from '../../components/ui';
import { type ApprovalRequest, useDeploymentSummary } from './approval-queries';
import { approvedByWords, expiryWords, progressWords, shortDigest } from './approval-words';
import './approvals.css';

/** A request waiting for approval in a board cell: how far it got, who approved, when it expires. */
export function ApprovalLine({ req }: { req: ApprovalRequest }) {
  const session = useSession();
  const summary = useDeploymentSummary(req.deploymentId, req.expiresMs !== null);
  const enc = encodeURIComponent;
  const words = session.can('deployments:write') ? 'Approve or reject' : 'See the request';
  return (
    <div className="awaiting small" data-testid={`awaiting-${req.deploymentId}`}>
      <Badge tone="warn">awaiting approval</Badge> <ShortSha sha={req.sha} />{' '}
      <strong>{progressWords(req.approved, req.required)}</strong>
      <div className="muted">
        approved by {approvedByWords(req.approvals)}
        {req.expiresMs !== null ? ` · ${expiryWords(summary.data?.approval?.expiresAt)}` : ''} ·{' '}
        <code title={req.digest}>{shortDigest(req.digest)}</code>
      </div>
      <Link
        href={`/apps/${enc(req.app)}/deployments/${enc(req.deploymentId)}`}
        aria-label={`${words} for ${req.app} ${req.env}`}
      >
        {words}
      </Link>
    </div>
  );
}
