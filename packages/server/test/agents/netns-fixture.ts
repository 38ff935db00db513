import { spawnSync } from 'node:child_process';

// Network namespaces for agent tests (issue #16): a namespace per agent, a veth pair to the test's
// server, and a link that can be cut. Needs root; CI runs as root with GANTRY_REQUIRE_NETNS=1.

export function ip(...args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error?.message ?? ''}`.trim() };
}

/** Why network namespaces cannot be used here, or null when they can. */
export function netnsProblem(): string | null {
  if (process.getuid?.() !== 0) return 'not root (ip netns and veth pairs need CAP_NET_ADMIN)';
  const probe = `gprobe${process.pid}`;
  const made = ip('netns', 'add', probe);
  if (!made.ok) return `\`ip netns add\` failed: ${made.out}`;
  ip('netns', 'del', probe);
  const veth = ip('link', 'add', `gp${process.pid}a`, 'type', 'veth', 'peer', 'name', `gp${process.pid}b`);
  if (!veth.ok) return `\`ip link add … type veth\` failed: ${veth.out}`;
  ip('link', 'del', `gp${process.pid}a`);
  return null;
}

/** A namespace, a veth pair and a private /24 of this run's own (from the pid, skipping taken ones). */
export interface Net {
  ns: string;
  hostIf: string;
  hostAddr: string;
  agentAddr: string;
  cut(): void;
  restore(): void;
  remove(): void;
}

/**
 * `prefix` names the namespace and links, `octet` the 10.<octet>.0.0/16 the /24 comes from: test files
 * run side by side in processes of their own, each with its own prefix and octet.
 */
export function makeNet(prefix = 'gc', octet = 199): Net {
  const id = process.pid;
  const taken = ip('-4', '-o', 'addr').out;
  let third = (id % 250) + 1;
  while (taken.includes(`10.${octet}.${third}.`)) third = (third % 250) + 1;
  const ns = `gantry-${prefix}-${id}`;
  const hostIf = `${prefix}h${id}`;
  const agentIf = `${prefix}a${id}`;
  const hostAddr = `10.${octet}.${third}.1`;
  const agentAddr = `10.${octet}.${third}.2`;
  const must = (...args: string[]) => {
    const r = ip(...args);
    if (!r.ok) throw new Error(`ip ${args.join(' ')}: ${r.out}`);
  };
  const remove = () => {
    // Whatever still runs in the namespace is this suite's (the agent and its steps).
    for (const pid of ip('netns', 'pids', ns).out.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    ip('link', 'del', hostIf);
    ip('netns', 'del', ns);
  };
  try {
    must('netns', 'add', ns);
    must('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', agentIf);
    must('link', 'set', agentIf, 'netns', ns);
    must('addr', 'add', `${hostAddr}/24`, 'dev', hostIf);
    must('link', 'set', hostIf, 'up');
    must('netns', 'exec', ns, 'ip', 'addr', 'add', `${agentAddr}/24`, 'dev', agentIf);
    must('netns', 'exec', ns, 'ip', 'link', 'set', agentIf, 'up');
    must('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  } catch (e) {
    remove();
    throw e;
  }
  return {
    ns,
    hostIf,
    hostAddr,
    agentAddr,
    cut: () => must('link', 'set', hostIf, 'down'),
    restore: () => must('link', 'set', hostIf, 'up'),
    remove,
  };
}
