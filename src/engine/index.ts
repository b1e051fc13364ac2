/** The engine's public surface: what the server, the CLI and the audit loop build on. */
export { validate, INTERNAL_ERROR_RULE, type ValidateOptions } from './validate.js';
export { Policy, PolicyError, parsePolicy, type ActionTable, type NamespaceInfo, type PolicyDocument } from './policy.js';
export { RULES, RULE_IDS } from './rules/index.js';
export type { Rule } from './rule.js';
export { CONTEXTS, ACTIONS, type Action, type Context, type Finding, type Verdict } from './verdict.js';
export { formatPath, type FieldPath } from './field-path.js';
export type { MCPServer, MCPServerSpec } from './mcpserver.generated.js';
export { MCPSERVER_RESOURCE } from './resource.js';
