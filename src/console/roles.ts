/**
 * Operator roles of the issuer console and what each may do. Administrators do everything;
 * issuance officers make offers and look up, revoke, suspend and reinstate credentials; auditors
 * read. Every console page and action asks `may` before it calls a service.
 */
export type OperatorRole = 'administrator' | 'issuance_officer' | 'auditor';

export const OPERATOR_ROLES: readonly OperatorRole[] = ['administrator', 'issuance_officer', 'auditor'];

export type ConsoleAction =
  /** Read any console page (offers made, ledger, credential types, keys, clients, consents, audit). */
  | 'read'
  /** Make a credential offer for a person. */
  | 'offer'
  /** Revoke, suspend or reinstate an issued credential. */
  | 'change_status'
  /** Create, edit or retire credential types. */
  | 'manage_configurations'
  /** Rotate keys, manage clients and consents. */
  | 'administer';

const ALLOWED: Record<OperatorRole, ReadonlySet<ConsoleAction>> = {
  administrator: new Set(['read', 'offer', 'change_status', 'manage_configurations', 'administer']),
  issuance_officer: new Set(['read', 'offer', 'change_status']),
  auditor: new Set(['read']),
};

export const isOperatorRole = (value: unknown): value is OperatorRole =>
  typeof value === 'string' && (OPERATOR_ROLES as readonly string[]).includes(value);

export function may(role: OperatorRole, action: ConsoleAction): boolean {
  return ALLOWED[role].has(action);
}
