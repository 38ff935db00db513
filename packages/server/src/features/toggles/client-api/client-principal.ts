import type { FastifyRequest } from 'fastify';
import { NotAllowed } from '../../../errors.js';
import type { FeaturesForm } from './client-features.js';

/** The app and environment the request's client token is fixed to (the auth hook checked the role). */
export function clientOf(req: FastifyRequest): {
  tokenId: string;
  tokenName: string;
  appId: string;
  env: string;
} {
  const p = req.principal;
  if (p?.role !== 'client' || !p.tokenId || !p.appId || !p.env)
    throw new NotAllowed('this endpoint needs a client token');
  return { tokenId: p.tokenId, tokenName: p.name, appId: p.appId, env: p.env };
}

const forms = new Map<string, FeaturesForm>();

/** Segments travel apart for `Unleash-Client-Spec` ≥ 4.2.0, as unleash-server decides. */
export function formFor(spec: string | string[] | undefined): FeaturesForm {
  if (typeof spec !== 'string') return 'inline';
  let form = forms.get(spec);
  if (!form) {
    const [major = 0, minor = 0] = spec
      .trim()
      .replace(/^v/, '')
      .split('.')
      .map((n) => Number.parseInt(n, 10) || 0);
    form = major > 4 || (major === 4 && minor >= 2) ? 'segments' : 'inline';
    if (forms.size > 1000) forms.clear();
    forms.set(spec, form);
  }
  return form;
}

/** Whether `If-None-Match` names this ETag (one value, a list, or weak). */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header === etag || header === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}
