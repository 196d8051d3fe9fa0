import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import { SEARCH_ATTRIBUTES, type WorkflowPhase } from './constants';

/** Typed keys of NPanel's search attributes (pure: used by workflows and by the API when starting them). */
export const saKeys = {
  account: defineSearchAttributeKey(SEARCH_ATTRIBUTES.account, SearchAttributeType.KEYWORD),
  domain: defineSearchAttributeKey(SEARCH_ATTRIBUTES.domain, SearchAttributeType.KEYWORD),
  node: defineSearchAttributeKey(SEARCH_ATTRIBUTES.node, SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey(SEARCH_ATTRIBUTES.status, SearchAttributeType.KEYWORD),
};

/** The attributes a workflow starts with, so lists and filters find it from its first moment. */
export function startAttributes(
  a: { account?: string; domain?: string; node?: string },
  phase: WorkflowPhase = 'running',
): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [{ key: saKeys.status, value: phase }];
  if (a.account) pairs.push({ key: saKeys.account, value: a.account });
  if (a.domain) pairs.push({ key: saKeys.domain, value: a.domain });
  if (a.node) pairs.push({ key: saKeys.node, value: a.node });
  return pairs;
}
