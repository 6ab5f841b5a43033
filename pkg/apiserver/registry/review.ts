// The review kinds: nothing is stored; a POST is answered by the authorization chain (and, for
// SelfSubjectReview, by authentication) with the question's status filled in.

import type { AuthorizerSources } from '../authorizer.js';
import { selfSubjectAccessReview, selfSubjectReview, selfSubjectRulesReview, subjectAccessReview } from '../reviews.js';
import { defaultStrategy } from './default.js';
import type { Strategy } from './types.js';

/** The strategies of the five review kinds, keyed like the strategy table. */
export function reviewStrategies(authz: AuthorizerSources): [string, Strategy][] {
  const answering = (answerCreate: NonNullable<Strategy['answerCreate']>): Strategy => ({
    ...defaultStrategy,
    answerCreate,
  });
  return [
    [
      'authorization.k8s.io/selfsubjectaccessreviews',
      answering(({ body, user }) => selfSubjectAccessReview(authz, user, body)),
    ],
    ['authorization.k8s.io/subjectaccessreviews', answering(({ body }) => subjectAccessReview(authz, body))],
    [
      'authorization.k8s.io/localsubjectaccessreviews',
      answering(({ body, namespace }) => subjectAccessReview(authz, body, { namespace: namespace ?? '' })),
    ],
    [
      'authorization.k8s.io/selfsubjectrulesreviews',
      answering(({ body, user }) => selfSubjectRulesReview(authz, user, body)),
    ],
    ['authentication.k8s.io/selfsubjectreviews', answering(({ body, user }) => selfSubjectReview(user, body))],
  ];
}
