{{- /*
The Kubernetes runtime's permissions, verb by verb from apps/control-plane/src/runtime/kubernetes-api.ts
(see ARCHITECTURE.md "Packaging"): apply = get, then create or update; removal of a query = delete, or
deletecollection by label; scale = patch of statefulsets/scale; instances = list pods; a query's CPU limit
= patch of pods/resize (in place) and of pods (the annotation saying a resize was refused). No watch, no
cluster-scoped resource. One namespace: a Role. Several: a ClusterRole holding only the rules, bound by a
RoleBinding in each managed namespace, so the grant never reaches a namespace not listed.
*/ -}}
{{- define "sluice.rbacRules" -}}
- apiGroups: ["apps"]
  resources: ["statefulsets"]
  verbs: ["get", "create", "update", "delete"]
- apiGroups: ["apps"]
  resources: ["statefulsets/scale"]
  verbs: ["patch"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "delete", "patch"]
- apiGroups: [""]
  resources: ["pods/resize"]
  verbs: ["patch"]
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "create", "update", "deletecollection"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "create", "update", "deletecollection"]
- apiGroups: [""]
  resources: ["services"]
  verbs: ["get", "create", "update", "delete"]
{{- if .Values.rbac.leases }}
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["get", "create", "update"]
{{- end }}
{{- if .Values.rbac.events }}
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}
{{- end }}
