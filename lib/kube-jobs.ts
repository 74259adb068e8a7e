/**
 * kube-state-metrics' view of the Kubernetes Jobs of the declared CronJobs, as PromQL: what a run
 * that never pushed (OOM-killed with its wrapper, killed at its deadline, never started, hung)
 * leaves behind. One home for the joins: a Job is matched to its CronJob by `kube_job_owner`, and
 * the CronJob to the batch job by the `cronjob` label of `batch_job:info`. kube-state-metrics'
 * own `job` label (its scrape job) is aggregated away before the batch job's `job` is joined in.
 * Metrics used (kube-state-metrics v2.0 or later): kube_job_owner, kube_job_status_start_time,
 * kube_job_status_active, kube_job_failed, kube_job_status_failed{reason}, kube_pod_owner,
 * kube_pod_container_status_terminated_reason and kube_pod_container_status_last_terminated_reason.
 */
import { CRONJOB_LABEL } from './job-series';
import { matcher, selector, withLabel } from './promql';

/** Builds the expressions for one kube-state-metrics scrape job and one Pushgateway's `batch_job:info`. */
export class KubeJobs {
  constructor(private readonly scrapeJob: string, private readonly info: (extra: string[]) => string) {}

  /**
   * The start time of every failed Job of a declared CronJob, labelled with the batch `job`,
   * `namespace`, `job_name` and `reason`: `OOMKilled` when a container of its pods was OOM-killed,
   * else the Job's failure reason, else `Failed`.
   */
  public failedStartTimes(): string {
    const failed = `${this.ksm('kube_job_failed', [matcher('condition', 'true')])} == 1`;
    const oomKilled = [
      `max by (namespace, job_name) (label_replace(${this.ksm('kube_pod_owner', [matcher('owner_kind', 'Job')])}, "job_name", "$1", "owner_name", "(.+)")`,
      '  * on (namespace, pod) group_left () max by (namespace, pod) (',
      `    ${this.ksm('kube_pod_container_status_terminated_reason', [matcher('reason', 'OOMKilled')])}`,
      '    or',
      `    ${this.ksm('kube_pod_container_status_last_terminated_reason', [matcher('reason', 'OOMKilled')])}`,
      '  )',
      ')',
    ];
    return this.toBatchJob([
      `(max by (namespace, job_name) (${this.ksm('kube_job_status_start_time')}) and on (namespace, job_name) (${failed}))`,
      // Each branch is 1, so the product is the start time.
      '* on (namespace, job_name) group_left (reason) (',
      `  ${withLabel(oomKilled.join('\n  '), 'reason', 'OOMKilled')}`,
      '  or on (namespace, job_name)',
      `  clamp_max(max by (namespace, job_name, reason) (${this.ksm('kube_job_status_failed', [matcher('reason', '', '!=')])} > 0), 1)`,
      '  or on (namespace, job_name)',
      `  ${withLabel(`max by (namespace, job_name) (${failed})`, 'reason', 'Failed')}`,
      ')',
    ]);
  }

  /** How long each active Job of a declared CronJob has run, labelled like `failedStartTimes`, without `reason`. */
  public activeSeconds(): string {
    return this.toBatchJob([
      `time() - max by (namespace, job_name) (${this.ksm('kube_job_status_start_time')})`,
      `and on (namespace, job_name) max by (namespace, job_name) (${this.ksm('kube_job_status_active')}) > 0`,
    ]);
  }

  /** The last successful Job of each declared job's CronJob (the CronJob's `status.lastSuccessfulTime`), by `job`. */
  public lastSuccessfulTimes(): string {
    return [
      `max by (job) (${this.info([matcher(CRONJOB_LABEL, '', '!=')])}`,
      `  * on (namespace, cronjob) group_left () max by (namespace, cronjob) (${this.ksm('kube_cronjob_status_last_successful_time')}))`,
    ].join('\n');
  }

  /** Series by (namespace, job_name), joined to the batch job whose CronJob owns that Job. */
  private toBatchJob(byKubeJob: string[]): string {
    return [
      'label_replace(',
      '  (',
      ...byKubeJob.map((line) => `    ${line}`),
      '  )',
      `  * on (namespace, job_name) group_left (owner_name) max by (namespace, job_name, owner_name) (${this.ksm('kube_job_owner', [matcher('owner_kind', 'CronJob')])}),`,
      `  "${CRONJOB_LABEL}", "$1", "owner_name", "(.+)"`,
      ')',
      `* on (namespace, cronjob) group_left (job) max by (namespace, cronjob, job) (${this.info([matcher(CRONJOB_LABEL, '', '!=')])})`,
    ].join('\n');
  }

  private ksm(metric: string, extra: string[] = []): string {
    return selector(metric, [matcher('job', this.scrapeJob), ...extra]);
  }
}
