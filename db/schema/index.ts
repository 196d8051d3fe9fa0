/** Every table of the inventory; `createDb` hands this to drizzle so `db` is typed with all of them. */
export * from './nodes';
export * from './accounts';
export * from './domains';
export * from './mailboxes';
export * from './ftp-users';
export * from './customer-databases';
export * from './certificates';
export * from './migrations';
export * from './api-tokens';
export * from './audit-events';
export * from './name-claims';
