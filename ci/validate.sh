#!/usr/bin/env bash
# `mcpserver-webhook validate` for CI, shared by the GitHub Action (action.yml) and the GitLab
# job (ci/mcpserver-webhook.gitlab-ci.yml): the SARIF to a file for code scanning, the findings
# as text in the job's log, and the exit status of the text run: 0 when nothing is denied, 1 when
# anything is denied, 2 for input that could not be read or parsed.
#
# Settings come from the environment:
#   MCPSERVER_PATHS    files or folders to check, separated by spaces or new lines (default: .)
#   MCPSERVER_CONTEXT  manifest (files in Git, the default) or admission (as at kubectl apply)
#   MCPSERVER_POLICY   a policy file (default: the built-in policy)
#   MCPSERVER_CRD      a CRD file for validate's --crd option (default: none)
#   MCPSERVER_RULES_URL  where docs/rules.md is read, for the SARIF rules' help links (default:
#                        the file installed with the command)
#   MCPSERVER_SARIF    where the SARIF goes (default: mcpserver-webhook.sarif)
set -u

# The command of the package this script belongs to: a checkout (the action) or an install.
cli=(node "$(dirname "${BASH_SOURCE[0]}")/../bin/mcpserver-webhook.js" validate)

options=(--context "${MCPSERVER_CONTEXT:-manifest}")
if [ -n "${MCPSERVER_POLICY:-}" ]; then options+=(--policy "$MCPSERVER_POLICY"); fi
if [ -n "${MCPSERVER_CRD:-}" ]; then options+=(--crd "$MCPSERVER_CRD"); fi
# Only SARIF has help links.
sarif_options=()
if [ -n "${MCPSERVER_RULES_URL:-}" ]; then sarif_options+=(--rules-url "$MCPSERVER_RULES_URL"); fi
# Split on spaces and new lines, with globbing off: a path is taken as written.
set -f
# shellcheck disable=SC2206
paths=(${MCPSERVER_PATHS:-.})
set +f
sarif="${MCPSERVER_SARIF:-mcpserver-webhook.sarif}"

echo "mcpserver-webhook validate ${options[*]} ${paths[*]}"
# The text run below prints the same input errors, so this run's are not printed twice.
"${cli[@]}" --output sarif "${options[@]}" ${sarif_options[@]+"${sarif_options[@]}"} "${paths[@]}" > "$sarif" 2> /dev/null
"${cli[@]}" "${options[@]}" "${paths[@]}"
