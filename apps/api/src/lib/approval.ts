/**
 * The step of an approval route 审批流程 that a reviewer acts on, checked the same way for every kind
 * of thing that has a route (post-support projects, training plans): the step awaiting action, the
 * level that may act on it, the actions it takes, and a comment on a return.
 */
import { type ApprovalStep, approvalStepLabel, type DivisionLevel } from '@houfu/domain';
import { ApiError } from './problem.js';

/** What a reviewer sends: the action, a comment, and the step they saw (to refuse a stale one). */
export interface ReviewInput {
  action: 'approve' | 'return' | 'record';
  comment: string | null;
  step: number | undefined;
}

/** What is being reviewed: its status, route and the step awaiting action. */
export interface RoutedItem {
  status: string;
  route: readonly ApprovalStep[] | null;
  currentStep: number | null;
}

/** The step to act on: its index and label, and the next step's index (null after the last). */
export interface AwaitingStep {
  index: number;
  step: ApprovalStep;
  label: string;
  next: number | null;
}

/**
 * The step of `item` awaiting action by a reviewer at `level`, or the refusal: 409 (from `notAwaiting`)
 * when no step awaits, 409 when the reviewer saw another step (it was acted on already), 403 when the
 * step is another level's, 422 naming `action` when the step does not take it, 400 naming `comment`
 * for a return without one. `name` names the item in messages ("project 420581-2026-001").
 */
export function awaitingStep(
  item: RoutedItem,
  input: ReviewInput,
  level: DivisionLevel,
  name: string,
  notAwaiting: () => ApiError,
): AwaitingStep {
  const route = item.route ?? [];
  const index = item.currentStep;
  if (
    (item.status !== 'submitted' && item.status !== 'approved') ||
    index === null ||
    index >= route.length
  ) {
    throw notAwaiting();
  }
  if (input.step !== undefined && input.step !== index) {
    throw new ApiError(
      'conflict',
      `Step ${input.step} of ${name} is not awaiting action (step ${index} is): it was acted on already.`,
    );
  }
  const step = route[index] as ApprovalStep;
  const label = approvalStepLabel(step);
  if (step.level !== level) {
    throw new ApiError('forbidden', `Step ${index} (${label}) of ${name} is for the ${step.level}.`);
  }
  const wanted = step.action === 'record' ? ['record'] : ['approve', 'return'];
  if (!wanted.includes(input.action)) {
    throw new ApiError('unprocessable', `Step ${index} (${label}) takes ${wanted.join(' or ')}.`, [
      { field: 'action', message: `Expected ${wanted.join(' or ')}`, code: 'wrong_action' },
    ]);
  }
  if (input.action === 'return' && (!input.comment || input.comment.length < 2)) {
    throw new ApiError('validation_failed', 'A return says what to correct.', [
      { field: 'comment', message: 'Required when returning', code: 'required' },
    ]);
  }
  return { index, step, label, next: index + 1 < route.length ? index + 1 : null };
}
