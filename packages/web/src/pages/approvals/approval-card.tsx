import { type FormEvent, useId, useState } from 'react';
import { Link } from 'wouter';
import { useSession } from '../../api/session';
import { ShortSha, StatusBadge } from '../../components/ui';
import { type ApprovalRequest, useDecision, useDeploymentSummary } from './approval-queries';
import {
  approvedByWords,
  decisionProblem,
  decisionWords,
  expiryWords,
  fromWords,
  progressWords,
  refusalWords,
} from './approval-words';
import '../deployments/deployments.css';
import './approvals.css';

/** Approve or reject with a comment (a rejection needs one); the server's refusal in words. */
function DecisionForm({ req }: { req: ApprovalRequest }) {
  const decide = useDecision(req.deploymentId);
  const [comment, setComment] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const fieldId = useId();
  const what = `${req.app} ${req.env} ${req.sha.slice(0, 8)}`;
  const run = async (verdict: 'approve' | 'reject') => {
    setDone(null);
    const bad = decisionProblem(verdict, comment);
    setProblem(bad);
    if (bad) return;
    try {
      const after = await decide.mutateAsync({ verdict, comment });
      setComment('');
      setDone(
        verdict === 'reject'
          ? 'You rejected it.'
          : after.status === 'awaiting_approval'
            ? `You approved it: ${progressWords(after.approved, after.required)}.`
            : `You approved it: ${progressWords(after.approved, after.required)}; it is ${after.status}.`,
      );
    } catch (e) {
      setProblem(refusalWords(e));
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run('approve');
  };
  return (
    <form className="decision" onSubmit={submit}>
      <div className="field">
        <label htmlFor={fieldId}>
          Comment <span className="hint">(required to reject)</span>
        </label>
        <textarea id={fieldId} rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />
      </div>
      <div className="row">
        <button type="submit" className="primary" disabled={decide.isPending} aria-label={`Approve ${what}`}>
          Approve
        </button>
        <button
          type="button"
          className="danger"
          disabled={decide.isPending}
          aria-label={`Reject ${what}`}
          onClick={() => void run('reject')}
        >
          Reject
        </button>
      </div>
      {problem ? (
        <p className="alert" role="alert" data-testid="decision-problem">
          {problem}
        </p>
      ) : null}
      {done ? (
        <p className="notice" role="status">
          {done}
        </p>
      ) : null}
    </form>
  );
}

/**
 * A request for approval: what it deploys (SHA and artifact digest), who asked, how many approvals
 * it has of how many, from whom, when it expires, each decision; Approve and Reject for those who may.
 */
export function ApprovalCard({
  req,
  expiresAt,
  showTitle = false,
}: {
  req: ApprovalRequest;
  /** The request's expiry when the caller knows it; else it is read from the deployment. */
  expiresAt?: string | null;
  showTitle?: boolean;
}) {
  const session = useSession();
  const summary = useDeploymentSummary(req.deploymentId, expiresAt === undefined && req.expiresMs !== null);
  const expiry = expiresAt !== undefined ? expiresAt : (summary.data?.approval?.expiresAt ?? null);
  const waiting = req.status === 'awaiting_approval';
  const enc = encodeURIComponent;
  return (
    <article className="approval-card stack" data-testid={`approval-${req.deploymentId}`}>
      {showTitle ? (
        <h2>
          <Link href={`/apps/${enc(req.app)}/deployments/${enc(req.deploymentId)}`}>
            {req.app} {req.env}: <ShortSha sha={req.sha} />
          </Link>{' '}
          <StatusBadge status={req.status} label={req.status.replace('_', ' ')} />
        </h2>
      ) : null}
      <dl className="facts">
        <dt>Approvals</dt>
        <dd data-testid="approval-progress">
          <strong>{progressWords(req.approved, req.required)}</strong>
          {waiting ? ' (waiting)' : ''} · approved by {approvedByWords(req.approvals)}
        </dd>
        <dt>From</dt>
        <dd>
          {fromWords(req.from)}
          {req.selfApproval ? '' : <span className="muted"> · not the requester</span>}
        </dd>
        <dt>Requested by</dt>
        <dd>{req.requester}</dd>
        <dt>Artifact</dt>
        <dd>
          <code className="wrap" data-testid="approval-digest">
            {req.digest}
          </code>
        </dd>
        <dt>Expires</dt>
        <dd>{req.expiresMs === null ? 'does not expire' : expiryWords(expiry)}</dd>
        {req.supersededBy ? (
          <>
            <dt>Replaced by</dt>
            <dd>
              <Link href={`/apps/${enc(req.app)}/deployments/${enc(req.supersededBy)}`}>
                {req.supersededBy}
              </Link>
            </dd>
          </>
        ) : null}
      </dl>
      {req.approvals.length ? (
        <ol className="decisions" aria-label="Decisions">
          {req.approvals.map((a) => (
            <li key={a.createdAt + a.approver} className={a.verdict}>
              {decisionWords(a)}
            </li>
          ))}
        </ol>
      ) : (
        <p className="muted small">No decision yet.</p>
      )}
      {waiting && session.can('deployments:write') ? <DecisionForm req={req} /> : null}
      {waiting && !session.can('deployments:write') ? (
        <p className="muted small">Approving needs deployments:write on {req.env}.</p>
      ) : null}
    </article>
  );
}
