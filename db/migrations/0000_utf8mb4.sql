-- Hand-written (drizzle-kit generate --custom): drizzle-kit emits no table charset, so new tables take the
-- database default, which is latin1 on a stock MariaDB 10.11. Make the inventory database utf8mb4 before the
-- first table exists (labels, audit details and error texts may hold any Unicode). Without a name, ALTER
-- DATABASE applies to the connection's default database, so this works whatever the database is called.
ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
