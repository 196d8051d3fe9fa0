/**
 * The shape of `<home>/stack.json`: every endpoint of a running stack. Operators' scripts and tests read it;
 * keys named in the foundation issue are an interface: add keys, never rename or remove.
 */
export interface StackFile {
  api: string;
  node: { id: string; ip: string };
  temporal: {
    address: string;
    namespace: string;
    ui: string;
    /** `dev`: the CLI's dev server; `cluster`: a real server on PostgreSQL with mTLS (`up --temporal cluster`). */
    mode: 'dev' | 'cluster';
    /** Cluster only: the private CA and an operator's client certificate (`temporal --tls-ca-path … --tls-cert-path …`). */
    tls?: { ca: string; cert: string; key: string };
  };
  dns: { host: string; port: number; api: string };
  nginx: { http: number; https: number };
  imap: number;
  /** IMAP over TLS from the first byte (the domain's certificate by SNI). */
  imaps: number;
  lmtp: number;
  smtp: number;
  /** Mail submission: STARTTLS, then AUTH; the only port that relays (after AUTH). */
  submission: number;
  ftp: number;
  mysql: { host: string; port: number };
  acme: { directory: string; ca: string; issuerRoot?: string };
  migrationSource: {
    host: string;
    port: number;
    user: string;
    privateKey: string;
    hostKeyFingerprint: string;
    docroot: string;
    databases: string[];
    /** The sample mailboxes' maildirs on the source (absent in stack.json files written before they existed). */
    mailboxes?: { local: string; maildir: string }[];
  };
  /** Extra hosting nodes (tests start node "b"); the default node's ports are the top-level keys. */
  nodes?: Record<
    string,
    { nginx: { http: number; https: number }; imap: number; imaps: number; smtp: number; submission: number; ftp: number }
  >;
  /** Prometheus scrape targets: the API's /metrics and each node worker's (its own + the SDK's, merged). */
  metrics?: { api: string; workers: Record<string, string> };
  /** Where state lives, so tools can find logs and per-node folders. */
  home: string;
  logs: string;
}
