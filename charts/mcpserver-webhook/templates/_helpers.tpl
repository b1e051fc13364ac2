{{/*
The chart's name, overridable with nameOverride. Kubernetes names are at most 63 characters.
*/}}
{{- define "mcpserver-webhook.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The fully qualified name of the release's objects: fullnameOverride, else the release name
when it already contains the chart name, else "<release>-<chart>". Truncated to 63 characters.
*/}}
{{- define "mcpserver-webhook.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
"<chart>-<version>", for the helm.sh/chart label.
*/}}
{{- define "mcpserver-webhook.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The labels every object of the release carries.
*/}}
{{- define "mcpserver-webhook.labels" -}}
helm.sh/chart: {{ include "mcpserver-webhook.chart" . }}
{{ include "mcpserver-webhook.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: admission-webhook
{{- end }}

{{/*
The labels that select the webhook's pods (Deployment, Service, PodDisruptionBudget,
topology spread, NetworkPolicy). Never change these in an upgrade: a Deployment's selector is
immutable.
*/}}
{{- define "mcpserver-webhook.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mcpserver-webhook.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The service account the pods run as.
*/}}
{{- define "mcpserver-webhook.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mcpserver-webhook.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The DNS name the API server calls the webhook at: "<service>.<namespace>.svc". The serving
certificate must name it.
*/}}
{{- define "mcpserver-webhook.serviceHost" -}}
{{- printf "%s.%s.svc" (include "mcpserver-webhook.fullname" .) .Release.Namespace }}
{{- end }}

{{/*
The Secret holding tls.crt, tls.key (and ca.crt), mounted at /certs. Each mode has a name of its
own, so that switching modes never makes Helm adopt a Secret that cert-manager wrote, or the
reverse.
*/}}
{{- define "mcpserver-webhook.tlsSecretName" -}}
{{- if eq .Values.certificates.mode "existingSecret" }}
{{- required "certificates.existingSecret.name is required when certificates.mode is existingSecret" .Values.certificates.existingSecret.name }}
{{- else if eq .Values.certificates.mode "selfSigned" }}
{{- printf "%s-self-signed-tls" (include "mcpserver-webhook.fullname" .) }}
{{- else }}
{{- printf "%s-tls" (include "mcpserver-webhook.fullname" .) }}
{{- end }}
{{- end }}

{{/*
The cert-manager Certificate for the serving certificate (certManager mode).
*/}}
{{- define "mcpserver-webhook.certificateName" -}}
{{- printf "%s-tls" (include "mcpserver-webhook.fullname" .) }}
{{- end }}

{{/*
The DNS names of the serving certificate: every way a client in the cluster may name the Service.
*/}}
{{- define "mcpserver-webhook.dnsNames" -}}
{{- $svc := include "mcpserver-webhook.fullname" . }}
{{- $ns := .Release.Namespace }}
- {{ $svc }}
- {{ printf "%s.%s" $svc $ns }}
- {{ printf "%s.%s.svc" $svc $ns }}
- {{ printf "%s.%s.svc.%s" $svc $ns .Values.clusterDomain }}
{{- end }}

{{/*
selfSigned mode: the CA and serving certificate, generated once per render and shared by the
Secret and the ValidatingWebhookConfiguration (both must hold the same CA). An existing Secret
of the release is reused, so an upgrade keeps the certificate it has; `lookup` returns nothing
under `helm template` and client-side dry runs, which therefore print fresh ones.
Use it as `include "mcpserver-webhook.selfSignedTLS" . | fromYaml`: a map of the PEM texts
caCert, cert and key.
*/}}
{{- define "mcpserver-webhook.selfSignedTLS" -}}
{{- if not (hasKey . "mcpserverWebhookSelfSignedTLS") }}
{{- $secretName := include "mcpserver-webhook.tlsSecretName" . }}
{{- $existing := (lookup "v1" "Secret" .Release.Namespace $secretName).data | default dict }}
{{- $tls := dict }}
{{- if and (hasKey $existing "ca.crt") (hasKey $existing "tls.crt") (hasKey $existing "tls.key") }}
{{- $tls = dict "caCert" (index $existing "ca.crt" | b64dec) "cert" (index $existing "tls.crt" | b64dec) "key" (index $existing "tls.key" | b64dec) }}
{{- else }}
{{- $days := int .Values.certificates.selfSigned.validityDays }}
{{- $ca := genCA (printf "%s-ca" (include "mcpserver-webhook.fullname" .)) $days }}
{{- $dnsNames := include "mcpserver-webhook.dnsNames" . | fromYamlArray }}
{{- $cert := genSignedCert (include "mcpserver-webhook.serviceHost" .) nil $dnsNames $days $ca }}
{{- $tls = dict "caCert" $ca.Cert "cert" $cert.Cert "key" $cert.Key }}
{{- end }}
{{- $_ := set . "mcpserverWebhookSelfSignedTLS" $tls }}
{{- end }}
{{- toYaml (get . "mcpserverWebhookSelfSignedTLS") }}
{{- end }}

{{/*
The caBundle of the ValidatingWebhookConfiguration (base64 PEM), or nothing in certManager
mode, where cert-manager's CA injector writes it.
*/}}
{{- define "mcpserver-webhook.caBundle" -}}
{{- if eq .Values.certificates.mode "selfSigned" }}
{{- (include "mcpserver-webhook.selfSignedTLS" . | fromYaml).caCert | b64enc }}
{{- else if eq .Values.certificates.mode "existingSecret" }}
{{- required "certificates.existingSecret.caBundle (base64 of the CA's PEM) is required when certificates.mode is existingSecret" .Values.certificates.existingSecret.caBundle }}
{{- end }}
{{- end }}

{{/*
The webhook's namespaceSelector. It always leaves out kube-system and the release's own
namespace (by the kubernetes.io/metadata.name label every namespace has since Kubernetes 1.22),
and any namespace labelled with the opt-out label; the user's expressions come after.
*/}}
{{- define "mcpserver-webhook.namespaceSelector" -}}
{{- $excluded := concat (list "kube-system" .Release.Namespace) .Values.webhook.namespaceSelector.excludeNamespaces | uniq }}
matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values:
      {{- toYaml $excluded | nindent 6 }}
  {{- with .Values.webhook.namespaceSelector.ignoreLabel }}
  - key: {{ . }}
    operator: DoesNotExist
  {{- end }}
  {{- with .Values.webhook.namespaceSelector.matchExpressions }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/*
Where the policy ConfigMap is mounted (a directory, never a subPath: subPath mounts are not
updated when the ConfigMap changes, and the webhook reloads the file when it does).
*/}}
{{- define "mcpserver-webhook.policyDir" -}}
/etc/mcpserver-webhook/policy
{{- end }}

{{/*
Where the client CA ConfigMap is mounted.
*/}}
{{- define "mcpserver-webhook.clientCADir" -}}
/etc/mcpserver-webhook/client-ca
{{- end }}
