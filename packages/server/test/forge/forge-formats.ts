import { expect } from 'vitest';
import type { Received } from '../notifications/receiver.js';

/**
 * The requests each provider documents, written down from its API reference (not from Gantry's code):
 * method, path, the headers it authenticates and versions with, and the JSON body's fields — which
 * are required, which exist at all, their allowed values and length limits.
 */
export interface Endpoint {
  name: string;
  method: 'POST' | 'PUT';
  path: RegExp;
  required: string[];
  allowed: string[];
  enums: Record<string, string[]>;
  types?: Record<string, 'string' | 'boolean' | 'number' | 'array' | 'object'>;
  maxLength?: Record<string, number>;
}

const SHA = '[0-9a-f]{40}';

/** docs.github.com/en/rest/commits/statuses, …/deployments/deployments, …/deployments/statuses (2022-11-28). */
export function githubEndpoints(owner: string, repo: string): Endpoint[] {
  const base = `^/repos/${owner}/${repo}`;
  return [
    {
      name: 'status',
      method: 'POST',
      path: new RegExp(`${base}/statuses/${SHA}$`),
      required: ['state'],
      allowed: ['state', 'target_url', 'description', 'context'],
      enums: { state: ['error', 'failure', 'pending', 'success'] },
      types: { target_url: 'string', description: 'string', context: 'string' },
      maxLength: { description: 140 },
    },
    {
      name: 'deployment',
      method: 'POST',
      path: new RegExp(`${base}/deployments$`),
      required: ['ref'],
      allowed: [
        'ref',
        'task',
        'auto_merge',
        'required_contexts',
        'payload',
        'environment',
        'description',
        'transient_environment',
        'production_environment',
      ],
      enums: {},
      types: {
        ref: 'string',
        task: 'string',
        auto_merge: 'boolean',
        required_contexts: 'array',
        environment: 'string',
        description: 'string',
        transient_environment: 'boolean',
        production_environment: 'boolean',
      },
    },
    {
      name: 'deployment_status',
      method: 'POST',
      path: new RegExp(`${base}/deployments/\\d+/statuses$`),
      required: ['state'],
      allowed: [
        'state',
        'target_url',
        'log_url',
        'description',
        'environment',
        'environment_url',
        'auto_inactive',
      ],
      enums: { state: ['error', 'failure', 'inactive', 'in_progress', 'queued', 'pending', 'success'] },
      types: {
        log_url: 'string',
        environment_url: 'string',
        auto_inactive: 'boolean',
        description: 'string',
      },
      maxLength: { description: 140 },
    },
  ];
}

/** docs.gitlab.com/ee/api/commits.html#set-the-pipeline-status-of-a-commit and /ee/api/deployments.html. */
export function gitlabEndpoints(project: string): Endpoint[] {
  const base = `^/api/v4/projects/${encodeURIComponent(project)}`;
  return [
    {
      name: 'status',
      method: 'POST',
      path: new RegExp(`${base}/statuses/${SHA}$`),
      required: ['state'],
      allowed: ['state', 'ref', 'name', 'context', 'target_url', 'description', 'coverage', 'pipeline_id'],
      enums: { state: ['pending', 'running', 'success', 'failed', 'canceled', 'skipped'] },
      types: { name: 'string', target_url: 'string', description: 'string' },
      maxLength: { ref: 255, target_url: 255, description: 255 },
    },
    {
      name: 'deployment',
      method: 'POST',
      path: new RegExp(`${base}/deployments$`),
      required: ['environment', 'sha', 'ref', 'tag', 'status'],
      allowed: ['environment', 'sha', 'ref', 'tag', 'status'],
      enums: { status: ['running', 'success', 'failed', 'canceled'] },
      types: { environment: 'string', sha: 'string', ref: 'string', tag: 'boolean' },
    },
    {
      name: 'deployment_update',
      method: 'PUT',
      path: new RegExp(`${base}/deployments/\\d+$`),
      required: ['status'],
      allowed: ['status'],
      enums: { status: ['running', 'success', 'failed', 'canceled'] },
    },
  ];
}

/** Gitea's swagger: repoCreateStatus with a CreateStatusOption. */
export function giteaEndpoints(owner: string, repo: string): Endpoint[] {
  return [
    {
      name: 'status',
      method: 'POST',
      path: new RegExp(`^/api/v1/repos/${owner}/${repo}/statuses/${SHA}$`),
      required: ['state'],
      allowed: ['state', 'context', 'description', 'target_url'],
      enums: { state: ['pending', 'success', 'error', 'failure', 'warning'] },
      types: { context: 'string', description: 'string', target_url: 'string' },
    },
  ];
}

const kindOf = (v: unknown) => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);

/** Checks one received request against the documented endpoints; returns which one and its body. */
export function conform(
  r: Received,
  endpoints: Endpoint[],
): { endpoint: string; body: Record<string, unknown> } {
  const path = r.url.split('?')[0]!;
  const e = endpoints.find((x) => x.method === r.method && x.path.test(path));
  expect(e, `${r.method} ${r.url} is none of the documented endpoints`).toBeDefined();
  expect(r.headers['content-type']).toBe('application/json');
  expect(String(r.headers['user-agent'] ?? '')).not.toBe('');
  const body = r.json() as Record<string, unknown>;
  expect(kindOf(body)).toBe('object');
  for (const key of e!.required) expect(body, `${e!.name}: ${key} is required`).toHaveProperty(key);
  for (const key of Object.keys(body))
    expect(e!.allowed, `${e!.name}: ${key} is not a documented field`).toContain(key);
  for (const [key, values] of Object.entries(e!.enums))
    if (key in body) expect(values, `${e!.name}: ${key}=${String(body[key])}`).toContain(body[key]);
  for (const [key, kind] of Object.entries(e!.types ?? {}))
    if (key in body) expect(kindOf(body[key])).toBe(kind);
  for (const [key, max] of Object.entries(e!.maxLength ?? {}))
    if (typeof body[key] === 'string') expect((body[key] as string).length).toBeLessThanOrEqual(max);
  for (const key of ['target_url', 'log_url', 'environment_url'])
    if (typeof body[key] === 'string') expect(() => new URL(body[key] as string)).not.toThrow();
  return { endpoint: e!.name, body };
}
