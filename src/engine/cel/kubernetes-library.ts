import { strings } from '@bufbuild/cel/ext';
import type { CelFunc } from '@bufbuild/cel';

/**
 * The functions the API server adds to standard CEL that this checker provides, for the CRD's
 * rules and the generated ValidatingAdmissionPolicy. The API server's base environment
 * (k8s.io/apiserver/pkg/cel/environment/base.go) includes cel-go's string extension
 * (`ext.Strings`: charAt, indexOf, lastIndexOf, lowerAscii, upperAscii, replace, split,
 * substring, trim, join, format), which @bufbuild/cel implements as the same extension. The
 * Kubernetes libraries of k8s.io/apiserver/pkg/cel/library (isURL and url(), find and findAll,
 * isSorted and sum, quantity(), ip(), cidr(), semver() ...) are not provided: a rule that calls one
 * is reported as not checked, with its text, and the API server still checks it.
 */
export const KUBERNETES_LIBRARY: readonly CelFunc[] = [...strings];
