import { InvalidNotificationRequest } from '../../errors.ts';
import { field, type WireObject } from './schema.ts';
import type { NotificationEvent, NotificationRequest } from './types.ts';

/**
 * The notification request: OpenID4VCI 1.0 §11.1 and draft 13 §10.1 have one shape, so one decoder
 * serves both (a notification carries nothing that tells the versions apart).
 * https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#section-11.1
 */
const NOTIFICATION_EVENTS: readonly NotificationEvent[] = [
  'credential_accepted',
  'credential_failure',
  'credential_deleted',
];

const notificationId = field<string>(
  { type: 'string', maxLength: 200 },
  () => new InvalidNotificationRequest('notification_id is required'),
);
const event = field<NotificationEvent>(
  { enum: NOTIFICATION_EVENTS },
  () =>
    new InvalidNotificationRequest(
      'event must be credential_accepted, credential_failure or credential_deleted',
    ),
);
// §11.1: event_description is "human-readable ASCII [USASCII] text".
const eventDescription = field<string>(
  { type: 'string', pattern: '^[\\x20-\\x7E]*$' },
  () => new InvalidNotificationRequest('event_description must be ASCII text'),
);

export function decodeNotificationRequest(body: WireObject): NotificationRequest {
  return {
    notificationId: notificationId(body.notification_id),
    event: event(body.event),
    ...(body.event_description !== undefined
      ? { eventDescription: eventDescription(body.event_description) }
      : {}),
  };
}
