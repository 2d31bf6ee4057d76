//! One YAML manifest per built-in kind, with the table header upstream 1.33 prints for it
//! (`pkg/printers/internalversion/printers.go`; kinds without a printer get the default
//! `NAME CREATED AT`). `{ns}` is the scenario's namespace and `{sfx}` a per-kubectl suffix
//! that keeps cluster-scoped names apart.

/// One kind's CRUD case.
pub struct KindCase {
    /// Scenario label (`crud_<label>`).
    pub label: &'static str,
    /// What `kubectl get` is given (`deployments.apps`).
    pub resource: &'static str,
    /// The object's name (after substitution).
    pub name: &'static str,
    pub namespaced: bool,
    /// Upstream's default `kubectl get` columns.
    pub header: &'static [&'static str],
    /// Create, read and print only (no apply/delete), e.g. CRDs.
    pub create_only: bool,
    pub yaml: &'static str,
}

impl KindCase {
    pub fn render(&self, ns: &str, sfx: &str) -> String {
        expand(&self.yaml.replace("{ns}", ns).replace("{sfx}", sfx))
    }

    pub fn object_name(&self, sfx: &str) -> String {
        self.name.replace("{sfx}", sfx)
    }
}

/// A certificate request for CN=compat-user (EC P-256), base64 of its PEM.
pub const CSR_REQUEST: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlIaE1JR0pBZ0VBTUNjeEZEQVNCZ05WQkFNTUMyTnZiWEJoZEMxMWMyVnlNUTh3RFFZRFZRUUtEQVpqYjIxdwpZWFF3V1RBVEJnY3Foa2pPUFFJQkJnZ3Foa2pPUFFNQkJ3TkNBQVJQZW5iRnU1VlZxclNIb1RFdTB5c1hvUHE1CkVyM0dobGZCWTZERER1bHZmWDVPS0lOTXhvcnBCSVdna3lSTWtJSk1Ec2R3cVhQWU5pcUV6ME1MWHBlTm9BQXcKQ2dZSUtvWkl6ajBFQXdJRFJ3QXdSQUlnVTlQZjJtbDB0emxPMWlFTVZKWkNqM1lVT0psU2UxUEpMNEdOenFYdApIVW9DSUhKSUJJTTNjOXgvUjllTkRoVUwwbmIxL3I5bUtQRk9XVXdxWnUyelh1QkcKLS0tLS1FTkQgQ0VSVElGSUNBVEUgUkVRVUVTVC0tLS0tCg==";

const POD_SPEC: &str = "      containers:
      - name: app
        image: docker.io/k8rs/demo:0.1.0
        ports:
        - containerPort: 8080";

pub fn cases() -> Vec<KindCase> {
    vec![
        KindCase {
            label: "configmap",
            resource: "configmaps",
            name: "cm1",
            namespaced: true,
            header: &["NAME", "DATA", "AGE"],
            create_only: false,
            yaml: "apiVersion: v1
kind: ConfigMap
metadata:
  name: cm1
  namespace: {ns}
  labels: {app: crud}
data:
  a: \"1\"
  b: two
",
        },
        KindCase {
            label: "secret",
            resource: "secrets",
            name: "secret1",
            namespaced: true,
            header: &["NAME", "TYPE", "DATA", "AGE"],
            create_only: false,
            yaml: "apiVersion: v1
kind: Secret
metadata:
  name: secret1
  namespace: {ns}
type: Opaque
stringData:
  password: hunter2
data:
  user: YWRtaW4=
",
        },
        KindCase {
            label: "serviceaccount",
            resource: "serviceaccounts",
            name: "sa1",
            namespaced: true,
            header: &["NAME", "SECRETS", "AGE"],
            create_only: false,
            yaml: "apiVersion: v1
kind: ServiceAccount
metadata:
  name: sa1
  namespace: {ns}
",
        },
        KindCase {
            label: "service",
            resource: "services",
            name: "svc1",
            namespaced: true,
            header: &[
                "NAME",
                "TYPE",
                "CLUSTER-IP",
                "EXTERNAL-IP",
                "PORT(S)",
                "AGE",
            ],
            create_only: false,
            yaml: "apiVersion: v1
kind: Service
metadata:
  name: svc1
  namespace: {ns}
spec:
  selector: {app: crud}
  ports:
  - name: http
    port: 80
    targetPort: 8080
",
        },
        KindCase {
            label: "pod",
            resource: "pods",
            name: "pod1",
            namespaced: true,
            header: &["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
            create_only: false,
            yaml: "apiVersion: v1
kind: Pod
metadata:
  name: pod1
  namespace: {ns}
  labels: {app: crud}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: app
    image: docker.io/k8rs/demo:0.1.0
",
        },
        KindCase {
            label: "replicationcontroller",
            resource: "replicationcontrollers",
            name: "rc1",
            namespaced: true,
            header: &["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
            create_only: false,
            yaml: "apiVersion: v1
kind: ReplicationController
metadata:
  name: rc1
  namespace: {ns}
spec:
  replicas: 1
  selector: {app: rc1}
  template:
    metadata:
      labels: {app: rc1}
    spec:
POD_SPEC
",
        },
        KindCase {
            label: "deployment",
            resource: "deployments.apps",
            name: "deploy1",
            namespaced: true,
            header: &["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
            create_only: false,
            yaml: "apiVersion: apps/v1
kind: Deployment
metadata:
  name: deploy1
  namespace: {ns}
spec:
  replicas: 1
  selector:
    matchLabels: {app: deploy1}
  template:
    metadata:
      labels: {app: deploy1}
    spec:
POD_SPEC
",
        },
        KindCase {
            label: "replicaset",
            resource: "replicasets.apps",
            name: "rs1",
            namespaced: true,
            header: &["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
            create_only: false,
            yaml: "apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: rs1
  namespace: {ns}
spec:
  replicas: 1
  selector:
    matchLabels: {app: rs1}
  template:
    metadata:
      labels: {app: rs1}
    spec:
POD_SPEC
",
        },
        KindCase {
            label: "statefulset",
            resource: "statefulsets.apps",
            name: "sts1",
            namespaced: true,
            header: &["NAME", "READY", "AGE"],
            create_only: false,
            yaml: "apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: sts1
  namespace: {ns}
spec:
  serviceName: sts1
  replicas: 1
  selector:
    matchLabels: {app: sts1}
  template:
    metadata:
      labels: {app: sts1}
    spec:
POD_SPEC
",
        },
        KindCase {
            label: "daemonset",
            resource: "daemonsets.apps",
            name: "ds1",
            namespaced: true,
            header: &[
                "NAME",
                "DESIRED",
                "CURRENT",
                "READY",
                "UP-TO-DATE",
                "AVAILABLE",
                "NODE SELECTOR",
                "AGE",
            ],
            create_only: false,
            yaml: "apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ds1
  namespace: {ns}
spec:
  selector:
    matchLabels: {app: ds1}
  template:
    metadata:
      labels: {app: ds1}
    spec:
POD_SPEC
",
        },
        KindCase {
            label: "job",
            resource: "jobs.batch",
            name: "job1",
            namespaced: true,
            header: &["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"],
            create_only: false,
            yaml: "apiVersion: batch/v1
kind: Job
metadata:
  name: job1
  namespace: {ns}
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: app
        image: docker.io/k8rs/demo:0.1.0
",
        },
        KindCase {
            label: "cronjob",
            resource: "cronjobs.batch",
            name: "cj1",
            namespaced: true,
            header: &[
                "NAME",
                "SCHEDULE",
                "TIMEZONE",
                "SUSPEND",
                "ACTIVE",
                "LAST SCHEDULE",
                "AGE",
            ],
            create_only: false,
            yaml: "apiVersion: batch/v1
kind: CronJob
metadata:
  name: cj1
  namespace: {ns}
spec:
  schedule: \"*/30 * * * *\"
  suspend: true
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: app
            image: docker.io/k8rs/demo:0.1.0
",
        },
        KindCase {
            label: "hpa_v2",
            resource: "horizontalpodautoscalers.autoscaling",
            name: "hpa2",
            namespaced: true,
            header: &[
                "NAME",
                "REFERENCE",
                "TARGETS",
                "MINPODS",
                "MAXPODS",
                "REPLICAS",
                "AGE",
            ],
            create_only: false,
            yaml: "apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: hpa2
  namespace: {ns}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: deploy1
  minReplicas: 1
  maxReplicas: 3
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 80
",
        },
        KindCase {
            label: "hpa_v1",
            resource: "horizontalpodautoscalers.autoscaling",
            name: "hpa1",
            namespaced: true,
            header: &[
                "NAME",
                "REFERENCE",
                "TARGETS",
                "MINPODS",
                "MAXPODS",
                "REPLICAS",
                "AGE",
            ],
            create_only: false,
            yaml: "apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: hpa1
  namespace: {ns}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: deploy1
  minReplicas: 1
  maxReplicas: 2
  targetCPUUtilizationPercentage: 50
",
        },
        KindCase {
            label: "ingress",
            resource: "ingresses.networking.k8s.io",
            name: "ing1",
            namespaced: true,
            header: &["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"],
            create_only: false,
            yaml: "apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ing1
  namespace: {ns}
spec:
  rules:
  - host: compat.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: svc1
            port:
              number: 80
",
        },
        KindCase {
            label: "ingressclass",
            resource: "ingressclasses.networking.k8s.io",
            name: "ic-{sfx}",
            namespaced: false,
            header: &["NAME", "CONTROLLER", "PARAMETERS", "AGE"],
            create_only: false,
            yaml: "apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: ic-{sfx}
spec:
  controller: example.com/compat
",
        },
        KindCase {
            label: "networkpolicy",
            resource: "networkpolicies.networking.k8s.io",
            name: "np1",
            namespaced: true,
            header: &["NAME", "POD-SELECTOR", "AGE"],
            create_only: false,
            yaml: "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: np1
  namespace: {ns}
spec:
  podSelector:
    matchLabels: {app: crud}
  policyTypes: [Ingress]
  ingress:
  - from:
    - podSelector: {}
",
        },
        KindCase {
            label: "poddisruptionbudget",
            resource: "poddisruptionbudgets.policy",
            name: "pdb1",
            namespaced: true,
            header: &[
                "NAME",
                "MIN AVAILABLE",
                "MAX UNAVAILABLE",
                "ALLOWED DISRUPTIONS",
                "AGE",
            ],
            create_only: false,
            yaml: "apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: pdb1
  namespace: {ns}
spec:
  minAvailable: 1
  selector:
    matchLabels: {app: crud}
",
        },
        KindCase {
            label: "role",
            resource: "roles.rbac.authorization.k8s.io",
            name: "role1",
            namespaced: true,
            header: &["NAME", "CREATED AT"],
            create_only: false,
            yaml: "apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: role1
  namespace: {ns}
rules:
- apiGroups: [\"\"]
  resources: [pods]
  verbs: [get, list]
",
        },
        KindCase {
            label: "rolebinding",
            resource: "rolebindings.rbac.authorization.k8s.io",
            name: "rb1",
            namespaced: true,
            header: &["NAME", "ROLE", "AGE"],
            create_only: false,
            yaml: "apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: rb1
  namespace: {ns}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: role1
subjects:
- kind: ServiceAccount
  name: default
  namespace: {ns}
",
        },
        KindCase {
            label: "clusterrole",
            resource: "clusterroles.rbac.authorization.k8s.io",
            name: "compat-cr-{sfx}",
            namespaced: false,
            header: &["NAME", "CREATED AT"],
            create_only: false,
            yaml: "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: compat-cr-{sfx}
rules:
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch]
",
        },
        KindCase {
            label: "clusterrolebinding",
            resource: "clusterrolebindings.rbac.authorization.k8s.io",
            name: "compat-crb-{sfx}",
            namespaced: false,
            header: &["NAME", "ROLE", "AGE"],
            create_only: false,
            yaml: "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: compat-crb-{sfx}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: compat-cr-{sfx}
subjects:
- kind: User
  name: compat-user
  apiGroup: rbac.authorization.k8s.io
",
        },
        KindCase {
            label: "storageclass",
            resource: "storageclasses.storage.k8s.io",
            name: "sc-{sfx}",
            namespaced: false,
            header: &[
                "NAME",
                "PROVISIONER",
                "RECLAIMPOLICY",
                "VOLUMEBINDINGMODE",
                "ALLOWVOLUMEEXPANSION",
                "AGE",
            ],
            create_only: false,
            yaml: "apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: sc-{sfx}
provisioner: example.com/none
volumeBindingMode: WaitForFirstConsumer
",
        },
        KindCase {
            label: "persistentvolume",
            resource: "persistentvolumes",
            name: "pv-{sfx}",
            namespaced: false,
            header: &[
                "NAME",
                "CAPACITY",
                "ACCESS MODES",
                "RECLAIM POLICY",
                "STATUS",
                "CLAIM",
                "STORAGECLASS",
                "VOLUMEATTRIBUTESCLASS",
                "REASON",
                "AGE",
            ],
            create_only: false,
            yaml: "apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv-{sfx}
spec:
  capacity:
    storage: 1Gi
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: manual-{sfx}
  hostPath:
    path: /tmp/k8rs-compat-pv
",
        },
        KindCase {
            label: "persistentvolumeclaim",
            resource: "persistentvolumeclaims",
            name: "pvc1",
            namespaced: true,
            header: &[
                "NAME",
                "STATUS",
                "VOLUME",
                "CAPACITY",
                "ACCESS MODES",
                "STORAGECLASS",
                "VOLUMEATTRIBUTESCLASS",
                "AGE",
            ],
            create_only: false,
            yaml: "apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: pvc1
  namespace: {ns}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: unbound-{sfx}
  resources:
    requests:
      storage: 1Gi
",
        },
        KindCase {
            label: "priorityclass",
            resource: "priorityclasses.scheduling.k8s.io",
            name: "pc-{sfx}",
            namespaced: false,
            header: &["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"],
            create_only: false,
            yaml: "apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: pc-{sfx}
value: 1000
description: compat suite
",
        },
        KindCase {
            label: "runtimeclass",
            resource: "runtimeclasses.node.k8s.io",
            name: "rtc-{sfx}",
            namespaced: false,
            header: &["NAME", "HANDLER", "AGE"],
            create_only: false,
            yaml: "apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata:
  name: rtc-{sfx}
handler: runc
",
        },
        KindCase {
            label: "lease",
            resource: "leases.coordination.k8s.io",
            name: "lease1",
            namespaced: true,
            header: &["NAME", "HOLDER", "AGE"],
            create_only: false,
            yaml: "apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: lease1
  namespace: {ns}
spec:
  holderIdentity: compat-holder
  leaseDurationSeconds: 30
",
        },
        KindCase {
            label: "endpointslice",
            resource: "endpointslices.discovery.k8s.io",
            name: "eps1",
            namespaced: true,
            header: &["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"],
            create_only: false,
            yaml: "apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: eps1
  namespace: {ns}
  labels:
    kubernetes.io/service-name: manual-svc
addressType: IPv4
ports:
- name: http
  port: 8080
  protocol: TCP
endpoints:
- addresses: [10.42.0.99]
  conditions:
    ready: true
",
        },
        KindCase {
            label: "endpoints",
            resource: "endpoints",
            name: "ep1",
            namespaced: true,
            header: &["NAME", "ENDPOINTS", "AGE"],
            create_only: false,
            yaml: "apiVersion: v1
kind: Endpoints
metadata:
  name: ep1
  namespace: {ns}
subsets:
- addresses:
  - ip: 10.42.0.98
  ports:
  - port: 8080
    name: http
",
        },
        KindCase {
            label: "limitrange",
            resource: "limitranges",
            name: "lr1",
            namespaced: true,
            header: &["NAME", "CREATED AT"],
            create_only: false,
            yaml: "apiVersion: v1
kind: LimitRange
metadata:
  name: lr1
  namespace: {ns}
spec:
  limits:
  - type: Container
    max:
      memory: 4Gi
",
        },
        KindCase {
            label: "resourcequota",
            resource: "resourcequotas",
            name: "quota1",
            namespaced: true,
            header: &["NAME", "AGE", "REQUEST", "LIMIT"],
            create_only: false,
            yaml: "apiVersion: v1
kind: ResourceQuota
metadata:
  name: quota1
  namespace: {ns}
spec:
  hard:
    count/configmaps: \"500\"
    pods: \"500\"
",
        },
        KindCase {
            label: "namespace",
            resource: "namespaces",
            name: "compat-crud-ns-{sfx}",
            namespaced: false,
            header: &["NAME", "STATUS", "AGE"],
            create_only: false,
            yaml: "apiVersion: v1
kind: Namespace
metadata:
  name: compat-crud-ns-{sfx}
  labels: {purpose: compat}
",
        },
        KindCase {
            label: "podtemplate",
            resource: "podtemplates",
            name: "pt1",
            namespaced: true,
            header: &["NAME", "CONTAINERS", "IMAGES", "POD LABELS"],
            create_only: false,
            yaml: "apiVersion: v1
kind: PodTemplate
metadata:
  name: pt1
  namespace: {ns}
template:
  metadata:
    labels: {app: pt1}
  spec:
    containers:
    - name: app
      image: docker.io/k8rs/demo:0.1.0
",
        },
        KindCase {
            label: "csidriver",
            resource: "csidrivers.storage.k8s.io",
            name: "csi-{sfx}.example.com",
            namespaced: false,
            header: &[
                "NAME",
                "ATTACHREQUIRED",
                "PODINFOONMOUNT",
                "STORAGECAPACITY",
                "TOKENREQUESTS",
                "REQUIRESREPUBLISH",
                "MODES",
                "AGE",
            ],
            create_only: false,
            yaml: "apiVersion: storage.k8s.io/v1
kind: CSIDriver
metadata:
  name: csi-{sfx}.example.com
spec:
  attachRequired: false
  podInfoOnMount: true
",
        },
        KindCase {
            label: "event_core",
            resource: "events",
            name: "ev1",
            namespaced: true,
            header: &["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
            create_only: false,
            yaml: "apiVersion: v1
kind: Event
metadata:
  name: ev1
  namespace: {ns}
involvedObject:
  apiVersion: v1
  kind: ConfigMap
  name: cm1
  namespace: {ns}
reason: CompatTest
message: core event from the compat suite
type: Normal
source:
  component: compat
firstTimestamp: \"2026-01-01T00:00:00Z\"
lastTimestamp: \"2026-01-01T00:00:00Z\"
count: 1
",
        },
        KindCase {
            label: "event_events_k8s_io",
            resource: "events.events.k8s.io",
            name: "ev2",
            namespaced: true,
            header: &["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
            create_only: false,
            yaml: "apiVersion: events.k8s.io/v1
kind: Event
metadata:
  name: ev2
  namespace: {ns}
eventTime: \"2026-01-01T00:00:00.000000Z\"
reportingController: example.com/compat
reportingInstance: compat-1
action: Testing
reason: CompatTest
note: events.k8s.io event from the compat suite
type: Normal
regarding:
  apiVersion: v1
  kind: ConfigMap
  name: cm1
  namespace: {ns}
",
        },
        KindCase {
            label: "certificatesigningrequest",
            resource: "certificatesigningrequests.certificates.k8s.io",
            name: "csr-{sfx}",
            namespaced: false,
            header: &[
                "NAME",
                "AGE",
                "SIGNERNAME",
                "REQUESTOR",
                "REQUESTEDDURATION",
                "CONDITION",
            ],
            create_only: false,
            yaml: "apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: csr-{sfx}
spec:
  request: CSR_REQUEST
  signerName: example.com/compat
  usages: [client auth]
",
        },
        KindCase {
            label: "validatingwebhookconfiguration",
            resource: "validatingwebhookconfigurations.admissionregistration.k8s.io",
            name: "vwc-{sfx}",
            namespaced: false,
            header: &["NAME", "WEBHOOKS", "AGE"],
            create_only: false,
            yaml: "apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: vwc-{sfx}
webhooks:
- name: validate.compat.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: Ignore
  timeoutSeconds: 1
  clientConfig:
    url: https://127.0.0.1:1/validate
  namespaceSelector:
    matchLabels: {compat-webhook: never-matches}
  rules:
  - apiGroups: [compat.example.com]
    apiVersions: [v1]
    operations: [CREATE]
    resources: [nothings]
",
        },
        KindCase {
            label: "mutatingwebhookconfiguration",
            resource: "mutatingwebhookconfigurations.admissionregistration.k8s.io",
            name: "mwc-{sfx}",
            namespaced: false,
            header: &["NAME", "WEBHOOKS", "AGE"],
            create_only: false,
            yaml: "apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: mwc-{sfx}
webhooks:
- name: mutate.compat.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: Ignore
  timeoutSeconds: 1
  clientConfig:
    url: https://127.0.0.1:1/mutate
  namespaceSelector:
    matchLabels: {compat-webhook: never-matches}
  rules:
  - apiGroups: [compat.example.com]
    apiVersions: [v1]
    operations: [CREATE]
    resources: [nothings]
",
        },
        KindCase {
            label: "customresourcedefinition",
            resource: "customresourcedefinitions.apiextensions.k8s.io",
            name: "widgets.compat{sfx}.example.com",
            namespaced: false,
            header: &["NAME", "CREATED AT"],
            create_only: true,
            yaml: "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.compat{sfx}.example.com
spec:
  group: compat{sfx}.example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wdg]
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
",
        },
    ]
}

/// Manifests are static text; the shared pod spec and the CSR are spliced in here.
pub fn expand(yaml: &str) -> String {
    yaml.replace("POD_SPEC", POD_SPEC)
        .replace("CSR_REQUEST", CSR_REQUEST)
}
