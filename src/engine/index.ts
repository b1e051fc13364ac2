/** The engine's public surface: what the server, the CLI and the audit loop build on. */
export { validate, schemaDrift, needsSecrets, affectedPeers, rulesConcerning, INTERNAL_ERROR_RULE, type SchemaDrift, type ValidateOptions } from './validate.js';
export { Policy, PolicyError, parsePolicy, type ActionTable, type NamespaceInfo, type PolicyDocument, type RuleTable } from './policy.js';
export { RULES, RULE_IDS, RULE_ALIASES } from './rules/index.js';
export type { CaughtByApiServer, Rule } from './rule.js';
export type { Fix, JsonPatchOperation } from './fix.js';
export { CONTEXTS, ACTIONS, compareText, type Action, type Context, type Finding, type Verdict } from './verdict.js';
export { formatPath, type FieldPath } from './field-path.js';
export { MCPServerSchema } from './mcpserver-schema.js';
export {
  compileAdmissionPolicy,
  ADMISSION_POLICY_API_VERSIONS,
  type AdmissionPolicyApiVersion,
  type AdmissionPolicyOptions,
  type AdmissionPolicyValidation,
  type CompiledAdmissionPolicy,
} from './admission-policy/compile.js';
export { compileCel, type CelOutcome, type CompiledCel } from './cel/evaluator.js';
export { CrdError, isMCPServerCrd } from './crd.js';
export { Fleet, secretIndex, secretIndexOf, secretKey, type FleetMember, type PeerGrouping, type RelatedField, type SecretIndex } from './fleet.js';
export { isPlainObject } from './schema.js';
export type { MCPServer, MCPServerSpec } from './mcpserver.generated.js';
export { MCPSERVER_RESOURCE, judgedFields, objectMetadata, type ObjectMetadata } from './resource.js';
