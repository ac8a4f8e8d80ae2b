/** The local cloud's SNS (query protocol; Publish appends to the notification feed). */
export { LocalSns, type Notification } from './sns';
