import type { paths } from './openapi';

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never;
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** The JSON body a route answers with, as the server's OpenAPI document declares it. */
export type ResponseOf<
  P extends keyof paths,
  M extends Method = 'get',
  S extends number = 200,
> = paths[P][M] extends { responses: infer Rs } ? (S extends keyof Rs ? Json<Rs[S]> : never) : never;

/** The JSON body a route takes. */
export type BodyOf<P extends keyof paths, M extends Method> = paths[P][M] extends {
  requestBody?: infer B;
}
  ? Json<NonNullable<B>>
  : never;
