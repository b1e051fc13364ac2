import { describe, expect, it } from 'vitest';
import { Fleet, validate, type Context } from '../../src/engine/index.js';
import { upstreamCorpus } from './corpus.js';

/**
 * Upstream Muster's own MCPServers (its docs, examples and e2e scenarios), each judged as the
 * example it is, alone: no false denial. What is denied is listed here with the upstream reason
 * that defends it; anything else denied, or any of these no longer denied, fails the test.
 */
const DEFENDED: Readonly<Record<string, string>> = {
  // The CRD (config/crd, giantswarm/muster; schemas/upstream here) types command as a string;
  // arguments go in spec.args. Older docs still write the list of an earlier format.
  'schema-violation at spec.command': 'the CRD types command as a string (MCPServerSpec.Command string, api/v1alpha1)',
  // Older docs use `localCommand` or leave the type out; the CRD's enum is stdio, streamable-http, sse.
  'schema-violation at spec.type': "the CRD's enum for type is stdio, streamable-http, sse, and type is required",
  'unknown-field at spec.healthCheck': 'the CRD has no healthCheck field: the API server refuses or drops it',
  'unknown-field at spec.auth.tokenExchange.tokenEndpoint': 'the CRD calls it dexTokenEndpoint; the message says so',
  'unknown-field at spec.auth.tokenExchange.audience': 'the CRD has no tokenExchange.audience',
  // With tokenEndpoint misnamed, exchange is enabled without an endpoint or a connector: Muster
  // then does not exchange at all (ShouldUseTokenExchange, internal/aggregator/connection_helper.go).
  'token-exchange-required-fields at spec.auth.tokenExchange.connectorId': 'ShouldUseTokenExchange needs connectorId',
  'token-exchange-required-fields at spec.auth.tokenExchange.dexTokenEndpoint': 'ShouldUseTokenExchange needs dexTokenEndpoint',
  // docs/reference/crds.md's field reference: <server-name> and the like are slots, not values.
  'schema-violation at metadata.name': 'a template with <server-name> in place of a name',
  'schema-violation at metadata.namespace': 'a template with <namespace> in place of a namespace',
  'schema-violation at spec.toolPrefix': 'a template slot',
  'schema-violation at spec.family.name': 'a template slot',
  'schema-violation at spec.family.instanceArg': 'a template slot',
  'schema-violation at spec.auth.type': 'a template slot',
  // e2e scenarios: `{{ get-mock-endpoint.url }}` is the test runner's template, filled in before the call.
  'schema-violation at spec.url': "a test runner's template in place of a URL; the CRD's pattern wants an http(s) URL",
};

/**
 * At admission the webhook sees what the API server let through: a placeholder such as
 * `Bearer your-token-here` there is an injection that failed (Muster sends headers and env
 * verbatim), and a list for command never arrives (the API server refuses it by the CRD's type
 * first; the webhook, which skips the schema at admission, would only see it missing).
 */
const DEFENDED_AT_ADMISSION: Readonly<Record<string, string>> = {
  'header-unresolved-placeholder at spec.headers[Authorization]': 'a placeholder word the pipeline never replaced',
  'env-unresolved-placeholder at spec.env[API_KEY]': 'a placeholder word the pipeline never replaced',
  'stdio-command-required at spec.command': 'a list for command, which the API server refuses by type before any webhook',
  'token-exchange-required-fields at spec.auth.tokenExchange.connectorId': DEFENDED['token-exchange-required-fields at spec.auth.tokenExchange.connectorId'] ?? '',
  'token-exchange-required-fields at spec.auth.tokenExchange.dexTokenEndpoint': DEFENDED['token-exchange-required-fields at spec.auth.tokenExchange.dexTokenEndpoint'] ?? '',
};

const isMusters = (object: Record<string, unknown>): boolean => String(object.apiVersion).startsWith('muster.giantswarm.io/');

function denialsOf(context: Context): { source: string; denials: string[] }[] {
  return upstreamCorpus()
    .filter(({ object }) => isMusters(object))
    .map(({ source, object }) => ({
      source,
      denials: validate(object, { context, fleet: new Fleet([{ id: source, object }]) }).denials.map((finding) => `${finding.rule} at ${finding.path}`),
    }));
}

describe("upstream Muster's own MCPServers", () => {
  it('holds the objects of its docs, examples and e2e scenarios', () => {
    const corpus = upstreamCorpus();
    expect(corpus.filter(({ object }) => isMusters(object)).length).toBe(66);
    expect(new Set(corpus.map(({ source }) => source.split('/')[0]?.split('#')[0]))).toEqual(new Set(['README.md', 'docs', 'examples', 'internal']));
  });

  it.each(['manifest', 'admission'] as const)('are denied in %s only for what upstream itself refuses or ignores', (context) => {
    const defended = context === 'manifest' ? DEFENDED : DEFENDED_AT_ADMISSION;
    const undefended = denialsOf(context).flatMap(({ source, denials }) => denials.filter((denial) => !(denial in defended)).map((denial) => `${source}: ${denial}`));
    expect(undefended).toEqual([]);
  });

  it('are not denied for a dummy token of the docs and mock servers, nor for loopback over plain http', () => {
    const all = denialsOf('manifest').flatMap(({ denials }) => denials);
    expect(all.filter((denial) => /credential|plaintext|placeholder/.test(denial))).toEqual([]);
    // Each defended reason is still needed: the table does not hide a rule that has gone quiet.
    expect(new Set(all)).toEqual(new Set(Object.keys(DEFENDED)));
  });
});
