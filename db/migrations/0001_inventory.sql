CREATE TABLE `accounts` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`username` varchar(16) NOT NULL,
	`domain` varchar(253) NOT NULL,
	`node_id` varchar(32) NOT NULL,
	`status` enum('provisioning','active','suspended','failed','rolled_back','deprovisioning','deleted') NOT NULL DEFAULT 'provisioning',
	`workflow_id` varchar(255) NOT NULL,
	`created_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP,
	CONSTRAINT `accounts_id` PRIMARY KEY(`id`),
	CONSTRAINT `accounts_username_uq` UNIQUE(`username`),
	CONSTRAINT `accounts_domain_uq` UNIQUE(`domain`)
);
--> statement-breakpoint
CREATE TABLE `api_tokens` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`token_hash` char(64) NOT NULL,
	`role` enum('admin','customer') NOT NULL,
	`account` varchar(16),
	`label` varchar(255),
	`created_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`last_used_at` timestamp(3),
	`revoked_at` timestamp(3),
	CONSTRAINT `api_tokens_id` PRIMARY KEY(`id`),
	CONSTRAINT `api_tokens_token_hash_uq` UNIQUE(`token_hash`)
);
--> statement-breakpoint
CREATE TABLE `audit_events` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`workflow_id` varchar(255) NOT NULL,
	`workflow_type` varchar(64) NOT NULL,
	`step` varchar(128) NOT NULL,
	`action` enum('do','undo','info') NOT NULL,
	`outcome` enum('ok','failed','skipped') NOT NULL,
	`actor` varchar(255) NOT NULL,
	`account` varchar(16),
	`domain` varchar(253),
	`details` json,
	CONSTRAINT `audit_events_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `certificates` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`domain` varchar(253) NOT NULL,
	`account_id` bigint unsigned,
	`serial` varchar(128),
	`issuer` varchar(1024),
	`not_before` datetime(3),
	`not_after` datetime(3),
	`cert_path` varchar(1024),
	`key_path` varchar(1024),
	`previous_serial` varchar(128),
	`last_outcome` enum('issued','renewed','failed','rolled_back'),
	`last_error` text,
	`last_workflow_id` varchar(255),
	`last_renewed_at` timestamp(3),
	`created_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP,
	CONSTRAINT `certificates_id` PRIMARY KEY(`id`),
	CONSTRAINT `certificates_domain_uq` UNIQUE(`domain`)
);
--> statement-breakpoint
CREATE TABLE `customer_databases` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`account_id` bigint unsigned NOT NULL,
	`name` varchar(64) NOT NULL,
	`db_user` varchar(80) NOT NULL,
	`created_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `customer_databases_id` PRIMARY KEY(`id`),
	CONSTRAINT `customer_databases_name_uq` UNIQUE(`name`)
);
--> statement-breakpoint
CREATE TABLE `domains` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`account_id` bigint unsigned NOT NULL,
	`name` varchar(253) NOT NULL,
	`docroot` varchar(1024) NOT NULL,
	`created_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `domains_id` PRIMARY KEY(`id`),
	CONSTRAINT `domains_name_uq` UNIQUE(`name`)
);
--> statement-breakpoint
CREATE TABLE `ftp_users` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`account_id` bigint unsigned NOT NULL,
	`username` varchar(64) NOT NULL,
	`home_dir` varchar(1024) NOT NULL,
	`password_hash` varchar(255) NOT NULL,
	`created_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `ftp_users_id` PRIMARY KEY(`id`),
	CONSTRAINT `ftp_users_username_uq` UNIQUE(`username`)
);
--> statement-breakpoint
CREATE TABLE `nodes` (
	`id` varchar(32) NOT NULL,
	`ip` varchar(45) NOT NULL,
	`task_queue` varchar(255) NOT NULL,
	`created_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`last_seen_at` timestamp(3),
	CONSTRAINT `nodes_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `mailboxes` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`account_id` bigint unsigned NOT NULL,
	`address` varchar(320) NOT NULL,
	`password_hash` varchar(255) NOT NULL,
	`created_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `mailboxes_id` PRIMARY KEY(`id`),
	CONSTRAINT `mailboxes_address_uq` UNIQUE(`address`)
);
--> statement-breakpoint
CREATE TABLE `migrations` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`workflow_id` varchar(255) NOT NULL,
	`domain` varchar(253) NOT NULL,
	`account` varchar(16) NOT NULL,
	`node_id` varchar(32) NOT NULL,
	`source_host` varchar(253) NOT NULL,
	`status` varchar(32) NOT NULL,
	`files_copied` bigint unsigned NOT NULL DEFAULT 0,
	`bytes_copied` bigint unsigned NOT NULL DEFAULT 0,
	`created_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP,
	CONSTRAINT `migrations_id` PRIMARY KEY(`id`),
	CONSTRAINT `migrations_workflow_id_uq` UNIQUE(`workflow_id`)
);
--> statement-breakpoint
ALTER TABLE `accounts` ADD CONSTRAINT `accounts_node_id_nodes_id_fk` FOREIGN KEY (`node_id`) REFERENCES `nodes`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `certificates` ADD CONSTRAINT `certificates_account_id_accounts_id_fk` FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `customer_databases` ADD CONSTRAINT `customer_databases_account_id_accounts_id_fk` FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `domains` ADD CONSTRAINT `domains_account_id_accounts_id_fk` FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `ftp_users` ADD CONSTRAINT `ftp_users_account_id_accounts_id_fk` FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `mailboxes` ADD CONSTRAINT `mailboxes_account_id_accounts_id_fk` FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX `accounts_status_idx` ON `accounts` (`status`);--> statement-breakpoint
CREATE INDEX `audit_events_at_idx` ON `audit_events` (`at`);--> statement-breakpoint
CREATE INDEX `audit_events_workflow_id_idx` ON `audit_events` (`workflow_id`);--> statement-breakpoint
CREATE INDEX `audit_events_account_idx` ON `audit_events` (`account`);--> statement-breakpoint
CREATE INDEX `certificates_not_after_idx` ON `certificates` (`not_after`);--> statement-breakpoint
CREATE INDEX `migrations_domain_idx` ON `migrations` (`domain`);--> statement-breakpoint
CREATE INDEX `migrations_account_idx` ON `migrations` (`account`);