import { plainYamlReason } from './yaml-reasons.js';
import {
  EVENT_ID,
  YAMLException,
  constructFromEvents,
  getScalarValue,
  parseEvents,
  type Event,
} from 'js-yaml';

/**
 * YAML (and JSON, which is YAML) text read into documents that remember where each field
 * came from. One parse gives both: js-yaml's event stream carries source offsets, so line
 * numbers cost nothing until a finding asks for one.
 */
export interface YamlDocument {
  /** The document's number in the text, from 0, counting documents with content. */
  readonly index: number;
  readonly value: unknown;
  /**
   * The 1-based line of the field at `keys` (of its key, where a block map or list starts on
   * the next line), or of its nearest ancestor that exists: a missing field is reported where
   * its parent is.
   */
  lineOf(keys: readonly (string | number)[]): number;
}

/** A document that could not be read. */
export interface YamlError {
  /** The document's number in the text, from 0, as a readable document's `index`. */
  readonly index: number;
  /** The 1-based line where the problem starts (not where the parser gave up). */
  readonly line: number;
  /** The parser's reason, in the words of someone who writes manifests. */
  readonly message: string;
  /** What could be read of the document before the problem, if anything: enough to name it. */
  readonly readable?: unknown;
}

/** Anchors and aliases are rare in manifests; many of them are a "billion laughs" attack. */
const MAX_ALIASES = 100;
/** A document start marker (`---` at the start of a line) is one even inside a block scalar. */
const DOCUMENT_START = /^---(?:[ \t]|$)/;
/** A line that is not blank, a comment or a bare document marker. */
const HAS_CONTENT = /^(?![ \t]*#)(?!(?:---|\.\.\.)[ \t]*$)[ \t]*\S/m;

/**
 * Reads every document. A syntax error costs only the document it is in: then the text is cut
 * at document markers and each piece parsed on its own. (Pieces are not the first try because
 * one parse of the whole text is about twice as fast.)
 */
export function parseYamlDocuments(text: string): (YamlDocument | YamlError)[] {
  try {
    return parsePiece({ text, firstLine: 0 }, 0);
  } catch {
    // Somewhere in the text is a syntax error: find it document by document.
  }
  const results: (YamlDocument | YamlError)[] = [];
  for (const piece of splitDocuments(text)) {
    try {
      results.push(...parsePiece(piece, results.length));
    } catch (error) {
      results.push(describeYamlError(error, piece, results.length));
    }
  }
  return results;
}

/** The documents with content in a piece of text; throws a YAMLException for broken YAML. */
function parsePiece(piece: Piece, firstIndex: number): YamlDocument[] {
  const events = parseEvents(piece.text, {});
  const values = constructFromEvents(events, { source: piece.text, maxAliases: MAX_ALIASES });
  const lineAt = lineLocator(piece);
  const documents: YamlDocument[] = [];
  documentRoots(events).forEach((root, position) => {
    if (root >= 0) documents.push(locatedDocument(firstIndex + documents.length, values[position], events, root, piece.text, lineAt));
  });
  return documents;
}

export function isYamlError(result: YamlDocument | YamlError): result is YamlError {
  return 'message' in result;
}

interface Piece {
  readonly text: string;
  /** The 0-based line of the text where the piece starts. */
  readonly firstLine: number;
}

function splitDocuments(text: string): Piece[] {
  const lines = text.split('\n');
  const pieces: Piece[] = [];
  let start = 0;
  const cut = (end: number): void => {
    const pieceText = lines.slice(start, end).join('\n');
    if (HAS_CONTENT.test(pieceText)) pieces.push({ text: pieceText, firstLine: start });
    start = end;
  };
  for (let line = 1; line < lines.length; line++) {
    if (!DOCUMENT_START.test(lines[line] ?? '')) continue;
    // Directives (%YAML, %TAG) belong to the document that the marker starts.
    let boundary = line;
    while (boundary > start && (lines[boundary - 1] ?? '').startsWith('%')) boundary--;
    if (boundary > start) cut(boundary);
  }
  cut(lines.length);
  return pieces;
}

/** `---` followed by nothing but comments: a scalar with no value, tag or anchor. */
function isEmptyScalar(event: Event | undefined): boolean {
  return event?.type === EVENT_ID.SCALAR && event.valueStart < 0 && event.tagStart < 0 && event.anchorStart < 0;
}

/** The index of each document's root node event, or -1 for a document with no content. */
function documentRoots(events: readonly Event[]): number[] {
  const roots: number[] = [];
  let at = 0;
  while (at < events.length) {
    if (events[at]?.type !== EVENT_ID.DOCUMENT) {
      at++;
      continue;
    }
    const root = at + 1;
    const empty = events[root]?.type === EVENT_ID.POP || isEmptyScalar(events[root]);
    roots.push(empty ? -1 : root);
    at = empty ? root + 1 : skipNode(events, root) + 1;
  }
  return roots;
}

function locatedDocument(
  index: number,
  value: unknown,
  events: readonly Event[],
  root: number,
  source: string,
  lineAt: (offset: number) => number,
): YamlDocument {
  let positions: Map<string, number> | undefined;
  return {
    index,
    value,
    lineOf(keys) {
      positions ??= indexPositions(events, root, source);
      for (let depth = keys.length; depth > 0; depth--) {
        const offset = positions.get(pathKey(keys.slice(0, depth)));
        if (offset !== undefined) return lineAt(offset);
      }
      return lineAt(Math.max(0, startOf(events[root])));
    },
  };
}

function pathKey(keys: readonly (string | number)[]): string {
  return keys.join('\u0000');
}

/** Records where every field of the document starts (its key, or the list item), walking the events once. */
function indexPositions(events: readonly Event[], root: number, source: string): Map<string, number> {
  const positions = new Map<string, number>();
  const walk = (at: number, path: (string | number)[]): number => {
    const event = events[at];
    if (event?.type === EVENT_ID.MAPPING) {
      let next = at + 1;
      while (next < events.length && events[next]?.type !== EVENT_ID.POP) {
        const keyEvent = events[next];
        const name = keyEvent?.type === EVENT_ID.SCALAR ? getScalarValue(source, keyEvent) : undefined;
        const valueAt = skipNode(events, next);
        if (name !== undefined) positions.set(pathKey([...path, name]), startOf(keyEvent));
        next = walk(valueAt, [...path, name ?? '']);
      }
      return next + 1;
    }
    if (event?.type === EVENT_ID.SEQUENCE) {
      let next = at + 1;
      for (let item = 0; next < events.length && events[next]?.type !== EVENT_ID.POP; item++) {
        positions.set(pathKey([...path, item]), startOf(events[next]));
        next = walk(next, [...path, item]);
      }
      return next + 1;
    }
    return at + 1;
  };
  walk(root, []);
  return positions;
}

/** The index of the event after the node that starts at `at`. */
function skipNode(events: readonly Event[], at: number): number {
  const type = events[at]?.type;
  if (type !== EVENT_ID.MAPPING && type !== EVENT_ID.SEQUENCE) return at + 1;
  let depth = 0;
  for (let i = at; i < events.length; i++) {
    const current = events[i]?.type;
    if (current === EVENT_ID.MAPPING || current === EVENT_ID.SEQUENCE) depth++;
    else if (current === EVENT_ID.POP && --depth === 0) return i + 1;
  }
  return events.length;
}

function startOf(event: Event | undefined): number {
  switch (event?.type) {
    case EVENT_ID.SCALAR:
      return firstPresent(event.anchorStart, event.tagStart, event.valueStart);
    case EVENT_ID.MAPPING:
    case EVENT_ID.SEQUENCE:
      return firstPresent(event.anchorStart, event.tagStart, event.start);
    case EVENT_ID.ALIAS:
      return event.anchorStart;
    default:
      return -1;
  }
}

/** The smallest offset that is present (-1 means absent). */
function firstPresent(...offsets: number[]): number {
  const present = offsets.filter((offset) => offset >= 0);
  return present.length ? Math.min(...present) : -1;
}

/** Offset to 1-based line in the whole text; the line index is built once per piece, on first use. */
function lineLocator(piece: Piece): (offset: number) => number {
  let lineStarts: number[] | undefined;
  return (offset) => {
    lineStarts ??= computeLineStarts(piece.text);
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((lineStarts[middle] ?? 0) <= offset) low = middle;
      else high = middle - 1;
    }
    return piece.firstLine + low + 1;
  };
}

function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/**
 * How far back to look for the start of a problem. Each look parses the lines before it again;
 * manifests are short, and this bounds the cost of a broken ten-thousand-line document.
 */
const MAX_LOOKBACK_LINES = 500;

/**
 * Where the problem starts, and why. js-yaml reports where it gave up, which for an unclosed
 * quote is a later line with a misleading reason ("deficient indentation"). The problem starts
 * on the first line that the lines above it cannot be read with: the longest run of whole lines
 * from the top of the document, up to the line js-yaml reports, that reads without error ends
 * just above it; reading one line more gives the reason (for an unclosed quote, that the quoted
 * string never ends).
 */
function describeYamlError(error: unknown, piece: Piece, index: number): YamlError {
  if (!(error instanceof YAMLException)) {
    return { index, line: piece.firstLine + 1, message: `invalid YAML: ${(error as Error).message.split('\n')[0]}` };
  }
  const lines = piece.text.split('\n');
  const reported = Math.min(error.mark?.line ?? 0, lines.length - 1);
  const firstLines = (count: number): ReadAttempt => readAttempt(lines.slice(0, count).join('\n'));
  for (let start = reported; start >= Math.max(0, reported - MAX_LOOKBACK_LINES); start--) {
    const before = firstLines(start);
    if ('error' in before) continue;
    const withStart = start === reported ? undefined : firstLines(start + 1);
    const cause = withStart && 'error' in withStart ? withStart.error : error;
    return { index, line: piece.firstLine + start + 1, message: plainYamlReason(cause.reason), ...(before.value == null ? {} : { readable: before.value }) };
  }
  return { index, line: piece.firstLine + reported + 1, message: plainYamlReason(error.reason) };
}

type ReadAttempt = { readonly value: unknown } | { readonly error: YAMLException };

/** The first document of `text`, or js-yaml's error. */
function readAttempt(text: string): ReadAttempt {
  try {
    const values = constructFromEvents(parseEvents(text, {}), { source: text, maxAliases: MAX_ALIASES });
    return { value: values[0] };
  } catch (error) {
    if (error instanceof YAMLException) return { error };
    throw error;
  }
}
