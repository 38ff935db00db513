import type { ColumnDefinitionBuilder } from 'kysely';

/** What differs between engines. Features read these flags; they never test the engine's name. */
export interface DialectCapabilities {
  /** Type for an auto-incrementing integer primary key (the events log sequence). */
  readonly serialType: 'integer' | 'bigserial';
  serialColumn(col: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
  /** Whether `FOR UPDATE SKIP LOCKED` can be used when claiming queued jobs. */
  readonly supportsSkipLocked: boolean;
  /** Column type for raw bytes. */
  readonly blobType: 'blob' | 'bytea';
  /** LISTEN/NOTIFY: servers sharing the database hear of each other's commits at once (src/cluster). */
  readonly notifies: boolean;
  /** Human label for logs and benchmarks. */
  readonly label: string;
}
