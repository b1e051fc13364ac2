import { createHash } from 'node:crypto';
import type { CoreV1Event } from '@kubernetes/client-node';
import { MCPSERVER_RESOURCE, type Finding } from '../engine/index.js';
import { fitText, taggedStandaloneMessage, toPlainAscii } from '../report/finding-text.js';
import { Backoff, type BackoffOptions } from '../cluster/backoff.js';
import { ApiClient } from '../cluster/api-client.js';
import { EVENTS, namespacedPath, toClusterError, type ClusterConnection, type ClusterRequest } from '../cluster/connection.js';
import type { ClusterErrorKind } from '../telemetry/vocabulary.js';
import type { FailureLog } from '../cluster/failure-log.js';

export const EVENT_REASON = 'PolicyViolation';
export const EVENT_COMPONENT = 'mcpserver-webhook';
/** events.k8s.io/v1 refuses a note over 1 KiB and client-go's recorder cuts messages there: so do we. */
export const MAX_EVENT_MESSAGE_LENGTH = 1024;

/** An MCPServer and what the policy denies in it now (nothing, once it complies). */
export interface JudgedObject {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly resourceVersion: string;
  readonly denials: readonly Finding[];
}

export interface ViolationEventsOptions {
  readonly connection: ClusterConnection;
  /** `reportingInstance`: which replica wrote the event. */
  readonly identity: string;
  /** Asked right before each write: only the leader writes. */
  readonly mayWrite: () => boolean;
  /** Waits for the client-side rate limit; false: stopping, write nothing. */
  readonly throttle: () => Promise<boolean>;
  readonly failures: FailureLog;
  readonly onWriteError: (kind: ClusterErrorKind) => void;
  readonly backoff: BackoffOptions;
}

interface ObjectState {
  /** The denials now, as a fingerprint; '' when there are none. */
  readonly fingerprint: string;
  /** The events written for this object and their counts; undefined: written in an earlier term. */
  readonly counts: Map<string, number | undefined>;
}

/**
 * Every object that has complied all along in this term shares this state: most of a fleet does,
 * and a state with a map of its own each cost about 2.6 MB at 10,000 MCPServers. It is never
 * written to: an object that violates gets a state of its own.
 */
const COMPLIES_ALL_ALONG: ObjectState = Object.freeze({ fingerprint: '', counts: new Map<string, number | undefined>() });

/** The events remembered per object, oldest first dropped: enough for an object that flips back and forth. */
const REMEMBERED_EVENTS_PER_OBJECT = 16;

/**
 * A Warning Event `PolicyViolation` on each MCPServer the policy denies, with the denials' own
 * words. The same violation is not reported again while it lasts: each object's denials are
 * remembered as a fingerprint, and an event is written when they change, or come back after the
 * object complied for a while. The event's name is derived from the object's uid and the
 * fingerprint, so a violation that comes back increments the count of its earlier event (client-go's
 * create-or-patch), and a new leader finds the events of the previous one: an event that already
 * exists when a new leader first sees the violation means it lasted through the hand-over, and is
 * left as it is.
 */
export class ViolationEvents {
  private readonly api: ApiClient;
  private readonly states = new Map<string, ObjectState>();
  /** Writes that failed, retried with backoff while their violation lasts. */
  private readonly pending = new Map<string, { object: JudgedObject; firstSighting: boolean }>();
  private readonly backoff: Backoff;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: ViolationEventsOptions) {
    this.api = new ApiClient(options.connection);
    this.backoff = new Backoff(options.backoff);
  }

  /** Takes in an object's latest verdict; writes an event when its violation is new. */
  observe(object: JudgedObject): void {
    const fingerprint = object.denials.length === 0 ? '' : fingerprintOf(object.denials);
    const state = this.states.get(object.uid);
    if (state?.fingerprint === fingerprint) return;
    // An object that has violated keeps a state of its own, with the counts of its events, for when it violates again.
    const counts = state === undefined || state === COMPLIES_ALL_ALONG ? undefined : state.counts;
    if (fingerprint === '' && counts === undefined) this.states.set(object.uid, COMPLIES_ALL_ALONG);
    else this.states.set(object.uid, { fingerprint, counts: counts ?? new Map() });
    if (fingerprint !== '') this.track(this.emit(object, fingerprint, state === undefined));
  }

  /** A deleted object: nothing about it is remembered. */
  forget(uid: string): void {
    this.states.delete(uid);
    this.pending.delete(uid);
  }

  /** A new leadership term (or its end): every violation is looked at afresh. */
  reset(): void {
    this.states.clear();
    this.pending.clear();
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** Resolves when no write is in flight. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private track(write: Promise<void>): void {
    this.inFlight.add(write);
    void write.finally(() => this.inFlight.delete(write));
  }

  private async emit(object: JudgedObject, fingerprint: string, firstSighting: boolean): Promise<void> {
    if (!(await this.options.throttle()) || !this.options.mayWrite()) return;
    const state = this.states.get(object.uid);
    // Forgotten, or complying since a new term began: there is no violation to write.
    if (!state || state === COMPLIES_ALL_ALONG) return;
    const name = eventName(object, fingerprint);
    const request: ClusterRequest = { verb: 'create', resource: EVENTS, namespace: object.namespace };
    try {
      try {
        await this.api.create(namespacedPath(EVENTS, object.namespace), this.eventBody(object, name));
        remember(state, name, 1);
      } catch (error) {
        if (toClusterError(error, request, this.options.connection).kind !== 'conflict') throw error;
        // The event exists. Seen first in this term, the violation lasted through a hand-over: leave it.
        if (firstSighting) {
          if (!state.counts.has(name)) remember(state, name, undefined);
        } else {
          await this.recordAgain(object.namespace, name, state);
        }
      }
      this.pending.delete(object.uid);
      this.backoff.reset();
      this.options.failures.succeeded('events');
    } catch (error) {
      const problem = toClusterError(error, request, this.options.connection);
      this.options.onWriteError(problem.kind);
      this.options.failures.failed('events', problem.message);
      this.pending.set(object.uid, { object, firstSighting });
      this.scheduleRetry();
    }
  }

  /** The violation came back: its event counts once more and shows when (a JSON patch, client-node's default). */
  private async recordAgain(namespace: string, name: string, state: ObjectState): Promise<void> {
    const count = state.counts.get(name);
    const patch = [
      { op: 'replace', path: '/lastTimestamp', value: new Date().toISOString() },
      // A count written in an earlier term is unknown: it is left as it is rather than guessed.
      ...(count === undefined ? [] : [{ op: 'replace', path: '/count', value: count + 1 }]),
    ];
    try {
      await this.api.jsonPatch(namespacedPath(EVENTS, namespace, name), patch);
    } catch (error) {
      throw toClusterError(error, { verb: 'patch', resource: EVENTS, namespace }, this.options.connection);
    }
    remember(state, name, count === undefined ? undefined : count + 1);
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      for (const [uid, { object, firstSighting }] of this.pending) {
        const fingerprint = this.states.get(uid)?.fingerprint;
        // Retried only while the violation is still the one that failed to be written.
        if (fingerprint !== undefined && fingerprint !== '' && fingerprint === fingerprintOf(object.denials)) this.track(this.emit(object, fingerprint, firstSighting));
        else this.pending.delete(uid);
      }
    }, this.backoff.next());
  }

  private eventBody(object: JudgedObject, name: string): CoreV1Event {
    const { group, version, kind } = MCPSERVER_RESOURCE;
    const now = new Date();
    return {
      metadata: { name, namespace: object.namespace },
      involvedObject: {
        apiVersion: `${group}/${version}`,
        kind,
        name: object.name,
        namespace: object.namespace,
        uid: object.uid,
        resourceVersion: object.resourceVersion,
      },
      type: 'Warning',
      reason: EVENT_REASON,
      message: eventMessage(object.denials),
      source: { component: EVENT_COMPONENT },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: EVENT_COMPONENT,
      reportingInstance: this.options.identity,
    };
  }
}

function remember(state: ObjectState, name: string, count: number | undefined): void {
  state.counts.delete(name);
  state.counts.set(name, count);
  const oldest = state.counts.keys().next().value;
  if (state.counts.size > REMEMBERED_EVENTS_PER_OBJECT && oldest !== undefined) state.counts.delete(oldest);
}

/** The denials' identity: rule, path and message of each, in the engine's stable order. */
function fingerprintOf(denials: readonly Finding[]): string {
  return createHash('sha256')
    .update(JSON.stringify(denials.map(({ rule, path, message }) => [rule, path, message])))
    .digest('hex');
}

/** `<object name>.<16 hex digits>`, a valid name of at most 253 characters, the same for the same violation. */
function eventName(object: JudgedObject, fingerprint: string): string {
  const suffix = createHash('sha256').update(`${object.uid}\u0000${fingerprint}`).digest('hex').slice(0, 16);
  const prefix = object.name.slice(0, 253 - suffix.length - 1).replace(/[^a-z0-9]+$/, '');
  return `${prefix}.${suffix}`;
}

/**
 * The denials as the webhook words them (`path: message [rule]`), joined with `; ` in the engine's
 * order. Over 1 KiB, whole denials are kept while they fit and the rest are counted.
 */
export function eventMessage(denials: readonly Finding[]): string {
  const lines = denials.map((denial) => toPlainAscii(taggedStandaloneMessage(denial)));
  const more = (hidden: number): string => (hidden === 0 ? '' : `; and ${hidden} more (mcpserver-webhook audit lists them all)`);
  for (let shown = lines.length; shown > 0; shown--) {
    const text = `${lines.slice(0, shown).join('; ')}${more(lines.length - shown)}`;
    if (text.length <= MAX_EVENT_MESSAGE_LENGTH) return text;
  }
  return fitText(lines[0] ?? '', more(lines.length - 1), MAX_EVENT_MESSAGE_LENGTH);
}
