import { readFile } from 'node:fs/promises';
import { CrdError, MCPServerSchema, isMCPServerCrd, MCPSERVER_RESOURCE } from '../engine/index.js';
import { isYamlError, parseYamlDocuments } from '../engine/yaml-source.js';
import { UsageError } from './io.js';
import type { FoundCrd } from './manifests.js';

const CRD_NAME = `${MCPSERVER_RESOURCE.plural}.${MCPSERVER_RESOURCE.group}`;

/**
 * The schema of the MCPServer CRD in a file (YAML or JSON, one or more documents): `validate
 * --crd`. Any problem is a one-line usage error that names the file, and the line where it can.
 */
export async function loadCrdFile(file: string): Promise<MCPServerSchema> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --crd file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  for (const document of parseYamlDocuments(text)) {
    if (isYamlError(document)) throw new UsageError(`${file}:${document.line}: ${document.message}`);
    if (isMCPServerCrd(document.value)) return schemaOf({ file, line: document.lineOf([]), value: document.value });
  }
  throw new UsageError(`--crd file ${file} holds no CustomResourceDefinition named ${CRD_NAME}`);
}

/**
 * The schema to check against when no --crd is given: the MCPServer CRD among the inputs (a GitOps
 * repository that vendors Muster's chart), else the built-in one. Two different ones are refused:
 * which of them the cluster runs is not for us to guess.
 */
export function schemaFromInputs(crds: readonly FoundCrd[]): MCPServerSchema {
  const [first, ...others] = crds;
  if (!first) return MCPServerSchema.builtIn();
  const other = others.find((crd) => JSON.stringify(crd.value) !== JSON.stringify(first.value));
  if (other) {
    throw new UsageError(
      `the inputs hold two different ${CRD_NAME} CRDs (${first.file}:${first.line} and ${other.file}:${other.line}): name the one the cluster runs with --crd`,
    );
  }
  return schemaOf(first);
}

function schemaOf(crd: FoundCrd): MCPServerSchema {
  try {
    return MCPServerSchema.fromCrd(crd.value, crd.file);
  } catch (error) {
    if (error instanceof CrdError) throw new UsageError(`${crd.file}:${crd.line}: the ${CRD_NAME} CRD cannot be used: ${error.message}`);
    throw error;
  }
}
