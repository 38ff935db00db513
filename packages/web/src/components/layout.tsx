import type { ReactNode } from 'react';
import { Link, useLocation } from 'wouter';
import { useLive } from '../api/live';
import { type Permission, useSession } from '../api/session';
import { AccountMenu } from './account-menu';

const NAV: { href: string; label: string; match: RegExp; needs: Permission }[] = [
  { href: '/', label: 'Board', match: /^\/$|^\/apps\/[^/]+\/(environments|deployments)/, needs: 'apps:read' },
  {
    href: '/commits',
    label: 'Commits',
    match: /^\/commits|^\/apps\/[^/]+\/(commits|builds)/,
    needs: 'apps:read',
  },
  { href: '/toggles', label: 'Toggles', match: /^\/toggles|^\/apps\/[^/]+\/toggles/, needs: 'apps:read' },
  { href: '/releases', label: 'Releases', match: /^\/releases/, needs: 'apps:read' },
  { href: '/metrics', label: 'Metrics', match: /^\/metrics/, needs: 'metrics:read' },
  { href: '/incidents', label: 'Incidents', match: /^\/incidents/, needs: 'apps:read' },
  { href: '/reverts', label: 'Reverts', match: /^\/reverts/, needs: 'apps:read' },
  { href: '/approvals', label: 'Approvals', match: /^\/approvals/, needs: 'apps:read' },
  { href: '/people', label: 'People', match: /^\/people/, needs: 'users:write' },
  { href: '/agents', label: 'Agents', match: /^\/agents/, needs: 'server:admin' },
];

function LiveIndicator() {
  const { state } = useLive();
  const text =
    state === 'live' ? 'Live' : state === 'lost' ? 'Connection lost — reconnecting…' : 'Connecting…';
  return (
    <span
      role="status"
      className={`live badge ${state === 'live' ? 'ok' : state === 'lost' ? 'bad' : 'neutral'}`}
    >
      {text}
    </span>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const [location] = useLocation();
  const session = useSession();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/" className="brand">
          Gantry
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.filter((n) => session.can(n.needs)).map((n) => (
              <li key={n.href}>
                <Link href={n.href} aria-current={n.match.test(location) ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          {session.can('apps:read') ? <LiveIndicator /> : null}
          <AccountMenu />
          <button type="button" onClick={() => void session.signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
