import { Badge } from '../../components/ui';
import { type Verification, verificationWords } from './verification-words';

/**
 * A deployment's post-deploy checks as a badge: verifying, verified, check failed, superseded.
 * Nothing when the environment declares no check. The word is always written, never colour alone.
 */
export function VerificationBadge({ verification }: { verification: Verification | null | undefined }) {
  if (!verification) return null;
  const w = verificationWords(verification);
  return (
    <Badge tone={w.tone} title={w.title}>
      <span data-verification={verification}>{w.label}</span>
    </Badge>
  );
}
