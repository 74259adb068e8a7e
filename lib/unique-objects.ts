import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import { invalidInput } from './validation';

// The API server ignores metadata.namespace on these: two of them with one name are one object.
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition',
  'PersistentVolume', 'StorageClass', 'PriorityClass', 'IngressClass', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']);

const checkedApps = new WeakSet<IConstruct>();

/**
 * Makes synthesis refuse two ApiObjects anywhere in `scope`'s app that are one object in the
 * cluster (same API group, kind, namespace and name): `kubectl apply` would silently keep the last
 * one. Every construct of the library calls it; the check is added to the app once and covers all
 * of its objects, the library's and the app's own.
 */
export function refuseDuplicateObjects(scope: IConstruct): void {
  const root = scope.node.root;
  if (checkedApps.has(root)) return;
  checkedApps.add(root);
  root.node.addValidation({ validate: () => duplicateObjects(root) });
}

function duplicateObjects(root: IConstruct): string[] {
  const seen = new Map<string, ApiObject>();
  const errors: string[] = [];
  for (const construct of root.node.findAll()) {
    if (!ApiObject.isApiObject(construct)) continue;
    const group = construct.apiVersion.includes('/') ? construct.apiVersion.split('/')[0] : '';
    const namespace = CLUSTER_SCOPED.has(construct.kind) ? undefined : construct.metadata.namespace;
    const key = JSON.stringify([group, construct.kind, namespace ?? '', construct.name]);
    const first = seen.get(key);
    if (!first) {
      seen.set(key, construct);
      continue;
    }
    const object = `${construct.apiVersion} ${construct.kind} ${namespace ? `${namespace}/` : ''}${construct.name}`;
    errors.push(invalidInput(construct, 'object', object,
      `${first.node.path} defines it too, and kubectl apply would keep only one of them: give one of the two constructs `
      + 'another name or namespace (e.g. a BatchMonitoringChart in another namespace, or other names in its props), or define the object once').message);
  }
  return errors;
}
