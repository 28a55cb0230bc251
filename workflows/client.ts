/**
 * Starting this folder's workflows from outside the sandbox (API, activities, CLI). Not part of
 * the workflow bundle: only `mod.ts` and what it imports are bundled.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { BatchIdKey, INGEST_WORKFLOW, ingestWorkflowId, WorkspaceIdKey, type IngestBatchInput } from './ids.ts';

/**
 * Starts the ingestion workflow of one or more batches of a workspace. The workflow id is derived
 * from the first batch id, so a second start for the same batch (a retry, or the recovery sweep)
 * is a no-op; a failed run may be started again. A batch reached by two workflows (the sweep
 * starting a lone batch that a coalesced workflow also carries) is still appended once: the append
 * locks each batch and skips appended ones. Resolves to false when it was already running or done.
 */
export async function startIngestWorkflow(client: Client, taskQueue: string, input: IngestBatchInput): Promise<boolean> {
  try {
    await client.workflow.start(INGEST_WORKFLOW, {
      workflowId: ingestWorkflowId(input.batchIds[0]!),
      taskQueue,
      args: [input],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      typedSearchAttributes: [
        { key: WorkspaceIdKey, value: input.workspaceId },
        { key: BatchIdKey, value: input.batchIds },
      ],
    });
    return true;
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw error;
  }
}
