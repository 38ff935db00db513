import type { ComponentType } from 'react';

/** A console page and the path it answers; pages read their parameters with wouter's `useParams()`. */
export interface PageRoute {
  path: string;
  component: ComponentType;
}
