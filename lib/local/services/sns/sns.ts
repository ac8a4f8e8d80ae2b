import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { AwsServiceError } from '../../core/service';

/**
 * A minimal SNS for the notification topic. SNS speaks the AWS *query* protocol (form-encoded
 * `Action=Publish&TopicArn=...`, XML answers), unlike the JSON services behind the edge.
 * Publish appends the message to the notifications feed in the data dir, which the console
 * shows; nothing is delivered anywhere else.
 */

export interface Notification {
  messageId: string;
  topicArn: string;
  subject?: string;
  message: string;
  attributes: Record<string, string>;
  /** ISO 8601. */
  timestamp: string;
}

const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';
const MAX_SUBJECT_CHARS = 100;
const MAX_MESSAGE_BYTES = 262_144;
const esc = (s: string): string => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

export class LocalSns {
  constructor(
    private readonly feedFile: string,
    private readonly topics: string[],
  ) {
    mkdirSync(dirname(feedFile), { recursive: true });
  }

  /** Answer one query-protocol request body; returns the XML document. */
  handle(form: URLSearchParams): string {
    const action = form.get('Action');
    const requestId = randomUUID();
    switch (action) {
      case 'Publish': {
        const topicArn = form.get('TopicArn') ?? form.get('TargetArn');
        if (!topicArn)
          throw new AwsServiceError('InvalidParameter', 'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter');
        if (!this.topics.includes(topicArn)) throw new AwsServiceError('NotFound', `Topic does not exist: ${topicArn}`, 404);
        const message = form.get('Message');
        if (message === null)
          throw new AwsServiceError('InvalidParameter', 'Invalid parameter: Message Reason: no value for required parameter');
        // Publish's limits, which SNS's model states only in its documentation: subjects up to
        // 100 characters of one line, messages up to 256 KB of UTF-8.
        const subject = form.get('Subject');
        if (subject !== null && (subject.length > MAX_SUBJECT_CHARS || /[\p{Cc}]/u.test(subject)))
          throw new AwsServiceError('InvalidParameter', 'Invalid parameter: Subject');
        if (Buffer.byteLength(message) > MAX_MESSAGE_BYTES)
          throw new AwsServiceError('InvalidParameter', 'Invalid parameter: Message too long');
        const attributes: Record<string, string> = {};
        for (let i = 1; form.has(`MessageAttributes.entry.${i}.Name`); i++) {
          attributes[form.get(`MessageAttributes.entry.${i}.Name`)!] = form.get(`MessageAttributes.entry.${i}.Value.StringValue`) ?? '';
        }
        const n: Notification = {
          messageId: randomUUID(),
          topicArn,
          subject: subject ?? undefined,
          message,
          attributes,
          timestamp: new Date().toISOString(),
        };
        // One short line per append: a crash can tear at most the last line, which readers skip.
        appendFileSync(this.feedFile, `${JSON.stringify(n)}\n`);
        return `<PublishResponse xmlns="${XMLNS}"><PublishResult><MessageId>${n.messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`;
      }
      case 'ListTopics':
        return `<ListTopicsResponse xmlns="${XMLNS}"><ListTopicsResult><Topics>${this.topics
          .map((t) => `<member><TopicArn>${esc(t)}</TopicArn></member>`)
          .join(
            '',
          )}</Topics></ListTopicsResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></ListTopicsResponse>`;
      default:
        throw new AwsServiceError('InvalidAction', `SNS action ${action ?? '(none)'} is not supported by the local cloud`);
    }
  }

  /** An error in the query protocol's XML shape. */
  static errorXml(err: AwsServiceError): string {
    const fault = err.status >= 500 ? 'Receiver' : 'Sender';
    return `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${fault}</Type><Code>${esc(err.type)}</Code><Message>${esc(err.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
  }
}
