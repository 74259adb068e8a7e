import { Size } from 'cdk8s';
import { ContainerResources, k8s } from 'cdk8s-plus-27';

/** A Size as a Kubernetes quantity in the largest binary unit that keeps it whole (`2Gi`, `50Mi`). */
export function toQuantity(size: Size): k8s.Quantity {
  const mebibytes = size.toMebibytes();
  return k8s.Quantity.fromString(mebibytes % 1024 === 0 ? `${mebibytes / 1024}Gi` : `${mebibytes}Mi`);
}

/** cdk8s-plus resource types to the Kubernetes quantities they stand for. */
export function toKubeResources(resources: ContainerResources): k8s.ResourceRequirements {
  const pick = (kind: 'request' | 'limit') => {
    const out: Record<string, k8s.Quantity> = {};
    const cpu = resources.cpu?.[kind];
    const memory = resources.memory?.[kind];
    if (cpu) out.cpu = k8s.Quantity.fromString(cpu.amount);
    if (memory) out.memory = toQuantity(memory);
    return Object.keys(out).length ? out : undefined;
  };
  return { requests: pick('request'), limits: pick('limit') };
}
