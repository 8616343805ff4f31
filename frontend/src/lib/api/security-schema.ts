/**
 * The security endpoints (auth, users, API keys, audit, secrets) as the auth contract
 * describes them, in the shape openapi-typescript generates, for as long as the server's
 * OpenAPI schema (and so schema.d.ts) does not have them yet. Once `npm run gen:api`
 * brings them in, this file goes and models.ts points at the generated schemas.
 */
import type { components } from "./schema";

type Headers = { [name: string]: unknown };
type Json<T> = { headers: Headers; content: { "application/json": T } };
type Empty = { headers: Headers; content?: never };
type Err = Json<components["schemas"]["ErrorResponse"]>;
type Body<T> = { content: { "application/json": T } };

type Params<Path, Query> = { query?: Query; header?: never; cookie?: never } & ([Path] extends [never] ? { path?: never } : { path: Path });
type Op<Path, Query, RequestBody, Responses> = { parameters: Params<Path, Query>; responses: Responses } & ([RequestBody] extends [never]
  ? { requestBody?: never }
  : { requestBody: RequestBody });

type Methods = "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace";
type Item<M extends Partial<Record<Methods, unknown>>> = {
  parameters: { query?: never; header?: never; path?: never; cookie?: never };
} & { [K in Exclude<Methods, keyof M>]?: never } & M;

export type Role = "viewer" | "approver" | "author" | "operator" | "admin";

export interface Me {
  subject: string;
  name: string;
  /** user | api_key | token | anonymous (authentication switched off) */
  kind: string;
  /** The global role (null: project roles only). */
  role: Role | null;
  project_roles: { [project_id: string]: Role };
  groups: string[];
  must_change_password: boolean;
}

export interface AuthStatus {
  auth_enabled: boolean;
  local_login: boolean;
  oidc_login_url: string | null;
  initial_admin_pending: boolean;
}

export interface LoginResult {
  identity: Me;
  csrf_token: string;
}

export interface UserRead {
  user_id: string;
  username: string;
  display_name: string | null;
  email: string | null;
  role: string;
  project_roles: { [project_id: string]: string } | null;
  groups: string[] | null;
  disabled: boolean;
  created_at: string;
  last_login_at: string | null;
}

export interface UserCreate {
  username: string;
  password: string;
  role: Role;
  display_name?: string | null;
  email?: string | null;
  groups?: string[] | null;
  project_roles?: { [project_id: string]: Role } | null;
}

export interface UserUpdate {
  password?: string | null;
  role?: Role | null;
  display_name?: string | null;
  email?: string | null;
  groups?: string[] | null;
  project_roles?: { [project_id: string]: Role } | null;
  disabled?: boolean | null;
}

export interface ApiKeyRead {
  key_id: string;
  name: string;
  role: string;
  project_id: string | null;
  created_by: string | null;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface ApiKeyCreate {
  name: string;
  role: Role;
  project_id?: string | null;
}

export type ApiKeyCreated = ApiKeyRead & { key: string };

export interface AuditRead {
  seq: number;
  at: string;
  actor: string;
  actor_kind: string;
  role: string | null;
  action: string;
  subject_type: string | null;
  subject_id: string | null;
  project_id: string | null;
  request_id: string | null;
  outcome: number | null;
  details: { [key: string]: unknown } | null;
  prev_hash: string;
  hash: string;
}

export interface AuditVerify {
  ok: boolean;
  checked: number;
  first_bad_seq: number | null;
  problem: string | null;
  head_seq: number | null;
  head_hash: string | null;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  subject_type?: string;
  subject_id?: string;
  project_id?: string;
  since?: string;
  until?: string;
  limit?: number;
  offset?: number;
}

export interface SecretRead {
  secret_id: string;
  name: string;
  project_id: string | null;
  version: number;
  description: string | null;
  created_at: string;
  updated_at: string;
  last_used_at: string | null;
}

export interface SecretCreate {
  name: string;
  value: string;
  project_id?: string | null;
  description?: string | null;
}

export interface SecretRotate {
  value: string;
  description?: string | null;
}

export interface SecurityPaths {
  "/api/auth/status": Item<{ get: Op<never, never, never, { 200: Json<AuthStatus> }> }>;
  "/api/auth/login": Item<{
    post: Op<never, never, Body<{ username: string; password: string }>, { 200: Json<LoginResult>; 401: Err; 429: Err }>;
  }>;
  "/api/auth/logout": Item<{ post: Op<never, never, never, { 204: Empty }> }>;
  "/api/auth/me": Item<{ get: Op<never, never, never, { 200: Json<Me>; 401: Err }> }>;
  "/api/auth/password": Item<{
    post: Op<never, never, Body<{ current_password: string; new_password: string }>, { 204: Empty; 401: Err; 422: Err }>;
  }>;
  "/api/users": Item<{
    get: Op<never, never, never, { 200: Json<UserRead[]> }>;
    post: Op<never, never, Body<UserCreate>, { 201: Json<UserRead>; 409: Err; 422: Err }>;
  }>;
  "/api/users/{user_id}": Item<{
    put: Op<{ user_id: string }, never, Body<UserUpdate>, { 200: Json<UserRead>; 404: Err; 422: Err }>;
    delete: Op<{ user_id: string }, never, never, { 204: Empty; 404: Err }>;
  }>;
  "/api/keys": Item<{
    get: Op<never, never, never, { 200: Json<ApiKeyRead[]> }>;
    post: Op<never, never, Body<ApiKeyCreate>, { 201: Json<ApiKeyCreated>; 422: Err }>;
  }>;
  "/api/keys/{key_id}": Item<{ delete: Op<{ key_id: string }, never, never, { 204: Empty; 404: Err }> }>;
  "/api/audit": Item<{ get: Op<never, AuditQuery, never, { 200: Json<AuditRead[]> }> }>;
  "/api/audit/verify": Item<{ get: Op<never, never, never, { 200: Json<AuditVerify> }> }>;
  "/api/secrets": Item<{
    get: Op<never, { project_id?: string }, never, { 200: Json<SecretRead[]> }>;
    post: Op<never, never, Body<SecretCreate>, { 201: Json<SecretRead>; 409: Err; 422: Err }>;
  }>;
  "/api/secrets/{secret_id}": Item<{
    get: Op<{ secret_id: string }, never, never, { 200: Json<SecretRead>; 404: Err }>;
    put: Op<{ secret_id: string }, never, Body<SecretRotate>, { 200: Json<SecretRead>; 404: Err; 422: Err }>;
    delete: Op<{ secret_id: string }, never, never, { 204: Empty; 404: Err }>;
  }>;
}
