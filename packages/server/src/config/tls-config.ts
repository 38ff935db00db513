import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** HTTPS for the API and console: the certificate chain and its key, read once at start. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** Who may say, in X-Forwarded-*, what the client's address and protocol were: Fastify's `trustProxy`. */
export type TrustProxy = boolean | number | string[];

/** GANTRY_TLS_CERT and GANTRY_TLS_KEY: both or neither; each a readable PEM file. */
export function tlsFromEnv(env: NodeJS.ProcessEnv, errors: string[]): TlsFiles | undefined {
  const cert = env.GANTRY_TLS_CERT?.trim();
  const key = env.GANTRY_TLS_KEY?.trim();
  if (!cert && !key) return undefined;
  if (!cert || !key) {
    errors.push(
      `${cert ? 'GANTRY_TLS_KEY' : 'GANTRY_TLS_CERT'} is missing: HTTPS needs both the certificate (GANTRY_TLS_CERT) and its key (GANTRY_TLS_KEY)`,
    );
    return undefined;
  }
  return { certFile: resolve(cert), keyFile: resolve(key) };
}

/** Reads the PEM files; what is wrong with them, said once at start rather than at the first request. */
export function readTls(tls: TlsFiles): { cert: Buffer; key: Buffer } {
  const read = (file: string, what: string) => {
    try {
      const pem = readFileSync(file);
      if (!pem.includes('-----BEGIN')) throw new Error('not a PEM file (no -----BEGIN line)');
      return pem;
    } catch (e) {
      throw new Error(`${what} ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  return { cert: read(tls.certFile, 'GANTRY_TLS_CERT'), key: read(tls.keyFile, 'GANTRY_TLS_KEY') };
}

/**
 * GANTRY_TRUST_PROXY: `true` (any hop), a number of hops, or a comma-separated list of the proxies'
 * addresses or CIDR ranges. Unset or `false`: X-Forwarded-* are ignored, so a client cannot claim an
 * address or HTTPS it does not have.
 */
export function trustProxyFromEnv(env: NodeJS.ProcessEnv, errors: string[]): TrustProxy {
  const raw = env.GANTRY_TRUST_PROXY?.trim();
  if (!raw || raw === 'false' || raw === '0') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = list.filter((a) => !/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(a));
  if (bad.length > 0) {
    errors.push(
      `GANTRY_TRUST_PROXY=${raw}: expected true, a number of hops, or proxy addresses/CIDR ranges such as 10.0.0.1,192.168.0.0/16 (not ${bad.join(', ')})`,
    );
    return false;
  }
  return list;
}
