CREATE TABLE `name_claims` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`kind` enum('domain','database','database_user','mailbox','ftp_user') NOT NULL,
	`name` varchar(320) NOT NULL,
	`account` varchar(16) NOT NULL,
	`workflow_id` varchar(255) NOT NULL,
	`created_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `name_claims_id` PRIMARY KEY(`id`),
	CONSTRAINT `name_claims_kind_name_uq` UNIQUE(`kind`,`name`)
);
--> statement-breakpoint
CREATE INDEX `name_claims_account_idx` ON `name_claims` (`account`);--> statement-breakpoint
-- Written by hand after drizzle-kit's output: the names existing accounts already hold become their claims.
INSERT IGNORE INTO `name_claims` (`kind`, `name`, `account`, `workflow_id`) SELECT 'domain', `domain`, `username`, `workflow_id` FROM `accounts`;
--> statement-breakpoint
INSERT IGNORE INTO `name_claims` (`kind`, `name`, `account`, `workflow_id`) SELECT 'domain', d.`name`, a.`username`, a.`workflow_id` FROM `domains` d JOIN `accounts` a ON a.`id` = d.`account_id`;
--> statement-breakpoint
INSERT IGNORE INTO `name_claims` (`kind`, `name`, `account`, `workflow_id`) SELECT 'mailbox', m.`address`, a.`username`, a.`workflow_id` FROM `mailboxes` m JOIN `accounts` a ON a.`id` = m.`account_id`;
--> statement-breakpoint
INSERT IGNORE INTO `name_claims` (`kind`, `name`, `account`, `workflow_id`) SELECT 'ftp_user', f.`username`, a.`username`, a.`workflow_id` FROM `ftp_users` f JOIN `accounts` a ON a.`id` = f.`account_id`;
--> statement-breakpoint
INSERT IGNORE INTO `name_claims` (`kind`, `name`, `account`, `workflow_id`) SELECT 'database', c.`name`, a.`username`, a.`workflow_id` FROM `customer_databases` c JOIN `accounts` a ON a.`id` = c.`account_id`;
--> statement-breakpoint
INSERT IGNORE INTO `name_claims` (`kind`, `name`, `account`, `workflow_id`) SELECT 'database_user', c.`db_user`, a.`username`, a.`workflow_id` FROM `customer_databases` c JOIN `accounts` a ON a.`id` = c.`account_id`;
