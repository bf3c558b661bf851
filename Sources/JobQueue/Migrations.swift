import Foundation

/// The schema, as numbered migrations applied in order, each once, each in its own transaction.
/// Never edit a migration that has shipped: add a new one.
public struct Migration: Sendable, Equatable {
    public var version: Int
    public var name: String
    /// Plain DDL, no parameters (constant text, never built from input).
    var sql: String

    /// The migration's statements, one per extended-protocol query (a statement ends with `;` at a line end).
    var statements: [String] {
        sql.components(separatedBy: ";\n")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .map { $0.hasSuffix(";") ? String($0.dropLast()) : $0 }
            .filter { !$0.isEmpty }
    }
}

public enum Migrations {
    public static let all: [Migration] = [
        Migration(
            version: 1, name: "tenants_and_api_keys",
            sql: """
                CREATE TABLE tenants (
                    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                    name varchar(100) NOT NULL,
                    -- At most this many of the tenant's jobs are 'processing' at once (enforced inside the claim).
                    max_running_jobs integer NOT NULL DEFAULT 4 CHECK (max_running_jobs >= 0),
                    created_at timestamptz NOT NULL DEFAULT now(),
                    updated_at timestamptz NOT NULL DEFAULT now()
                );
                CREATE TABLE api_keys (
                    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                    -- First characters of the key, shown to people to tell keys apart; not enough to authenticate.
                    prefix varchar(32) NOT NULL,
                    -- SHA-256 of the whole key, hex. The key itself is never stored.
                    key_hash char(64) NOT NULL UNIQUE,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    last_used_at timestamptz,
                    revoked_at timestamptz
                );
                CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id);
                """),
        Migration(
            version: 2, name: "video_processing_jobs",
            sql: """
                CREATE TABLE video_processing_jobs (
                    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                    tenant_id uuid NOT NULL REFERENCES tenants(id),
                    status varchar(20) NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')),
                    priority integer NOT NULL DEFAULT 0,
                    image_ids uuid[] NOT NULL,
                    audio_file text,
                    text_overlay text,
                    overlay_type varchar(50) DEFAULT 'golden-frame',
                    duration_target decimal(10, 2),
                    quality_mode varchar(20) DEFAULT 'normal' CHECK (quality_mode IN ('normal', 'eco', 'freeze')),
                    started_at timestamptz,
                    completed_at timestamptz,
                    processing_time_ms integer,
                    attempts integer NOT NULL DEFAULT 0,
                    max_attempts integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
                    last_error text,
                    output_video_url text,
                    output_thumbnail_url text,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    updated_at timestamptz NOT NULL DEFAULT now(),
                    -- Queue state.
                    run_after timestamptz NOT NULL DEFAULT now(),
                    lease_owner text,
                    lease_expires_at timestamptz,
                    -- Bumped by every claim and never lowered: the fencing token a worker's writes must match.
                    lease_epoch bigint NOT NULL DEFAULT 0,
                    heartbeat_at timestamptz,
                    progress smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
                    cancel_requested boolean NOT NULL DEFAULT false,
                    callback_url text
                ) WITH (
                    fillfactor = 80,
                    autovacuum_vacuum_scale_factor = 0.02,
                    autovacuum_analyze_scale_factor = 0.02,
                    autovacuum_vacuum_cost_delay = 1
                );
                -- Exactly the claim's probe: pending jobs of one tenant, highest priority first, then oldest.
                CREATE INDEX video_jobs_claim_idx ON video_processing_jobs (tenant_id, priority DESC, created_at, id)
                    INCLUDE (run_after) WHERE status = 'pending';
                -- Running jobs: the per-tenant cap count and the reaper's expired-lease scan.
                CREATE INDEX video_jobs_running_idx ON video_processing_jobs (lease_expires_at, tenant_id)
                    WHERE status = 'processing';
                -- Listing a tenant's jobs, newest first.
                CREATE INDEX video_jobs_tenant_created_idx ON video_processing_jobs (tenant_id, created_at DESC, id DESC);
                """),
        Migration(
            version: 3, name: "video_processing_assets",
            sql: """
                CREATE TABLE video_processing_assets (
                    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                    tenant_id uuid NOT NULL REFERENCES tenants(id),
                    asset_type varchar(50) NOT NULL CHECK (asset_type IN ('overlay', 'frame', 'audio', 'image')),
                    name varchar(100) NOT NULL,
                    file_path text NOT NULL,
                    metadata jsonb DEFAULT '{}',
                    created_at timestamptz NOT NULL DEFAULT now(),
                    updated_at timestamptz NOT NULL DEFAULT now()
                );
                CREATE INDEX video_assets_tenant_idx ON video_processing_assets (tenant_id, asset_type);
                """),
        // The HTTP API's own state (the `api` branch).
        Migration(
            version: 5, name: "api_request_ids_idempotency_rate_limits",
            sql: """
                -- The X-Request-Id of the API request that created the job.
                ALTER TABLE video_processing_jobs ADD COLUMN request_id text;
                -- Idempotency-Key: one row per (tenant, key), kept at least 24 hours. response_status is null while the
                -- first request with the key is still being handled.
                CREATE TABLE api_idempotency_keys (
                    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                    idempotency_key text NOT NULL,
                    -- SHA-256 (hex) of the operation and the request body: a different request with the key is refused.
                    fingerprint char(64) NOT NULL,
                    response_status integer,
                    response_body text,
                    response_location text,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (tenant_id, idempotency_key)
                );
                CREATE INDEX api_idempotency_created_idx ON api_idempotency_keys (created_at);
                -- Token buckets for the per-API-key request rate, shared by every serve process.
                CREATE TABLE api_rate_limits (
                    bucket text PRIMARY KEY,
                    tokens double precision NOT NULL,
                    allowed boolean NOT NULL,
                    updated_at timestamptz NOT NULL
                );
                """),
        // Webhook outbox (the `service` branch; numbered 10 so other branches' 4, 5, ... merge without a clash).
        Migration(
            version: 10, name: "webhook_deliveries",
            sql: """
                CREATE TABLE webhook_deliveries (
                    -- The event id: the same on every attempt (webhook-id header), so receivers can drop duplicates.
                    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                    job_id uuid NOT NULL REFERENCES video_processing_jobs(id) ON DELETE CASCADE,
                    tenant_id uuid NOT NULL,
                    event_type varchar(40) NOT NULL CHECK (event_type IN ('job.completed', 'job.failed', 'job.cancelled')),
                    url text NOT NULL,
                    request_id text,
                    status varchar(20) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
                    attempts integer NOT NULL DEFAULT 0,
                    next_attempt_at timestamptz NOT NULL DEFAULT now(),
                    lease_owner text,
                    lease_expires_at timestamptz,
                    lease_epoch bigint NOT NULL DEFAULT 0,
                    last_status integer,
                    last_error text,
                    occurred_at timestamptz NOT NULL DEFAULT now(),
                    delivered_at timestamptz,
                    updated_at timestamptz NOT NULL DEFAULT now()
                ) WITH (autovacuum_vacuum_scale_factor = 0.05);
                -- One event per final state of a job (a repeated transition cannot queue a second one).
                CREATE UNIQUE INDEX webhook_deliveries_job_event_idx ON webhook_deliveries (job_id, event_type);
                -- The claim's probe: due deliveries, per tenant.
                CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (tenant_id, next_attempt_at, id)
                    INCLUDE (lease_expires_at) WHERE status = 'pending';
                """),
        // Templates v2: the job's merge field values; product clips as their own asset type.
        Migration(
            version: 11, name: "job_fields_and_video_assets",
            sql: """
                -- {"price": "$9"} for text and colour fields, {"logo": {"assetId": "<uuid>"}} for picture fields.
                ALTER TABLE video_processing_jobs ADD COLUMN fields jsonb NOT NULL DEFAULT '{}'::jsonb;
                ALTER TABLE video_processing_assets DROP CONSTRAINT IF EXISTS video_processing_assets_asset_type_check;
                ALTER TABLE video_processing_assets ADD CONSTRAINT video_processing_assets_asset_type_check
                    CHECK (asset_type IN ('overlay', 'frame', 'audio', 'image', 'video'));
                """),
        Migration(
            version: 12, name: "job_plan",
            sql: """
                -- The plan the worker rendered the job with (`rendc plan`'s summary), for operators; not sent to tenants.
                ALTER TABLE video_processing_jobs ADD COLUMN plan text;
                """),
        // Issue 17: a voice-over asset per job, and the measured loudness of the finished video's audio.
        Migration(
            version: 13, name: "job_voice_file_and_audio_loudness",
            sql: """
                ALTER TABLE video_processing_jobs ADD COLUMN voice_file text;
                -- {"inputLufs": -21.4, "outputLufs": -14.0, "outputTruePeakDbtp": -2.0}
                ALTER TABLE video_processing_jobs ADD COLUMN audio_loudness jsonb;
                """),
        // Fair claims across tenants: priority orders a tenant's own jobs only; between tenants the claim goes
        // round-robin by when each was last served.
        Migration(
            version: 14, name: "tenant_last_claimed_at",
            sql: """
                ALTER TABLE tenants ADD COLUMN last_claimed_at timestamptz;
                """),
        // Idempotency keys: the request that holds a key renews it while it works (renewed_at), and only that
        // request (owner) may finish or release it; a key is abandoned when its owner stops renewing.
        Migration(
            version: 15, name: "idempotency_key_owner_and_renewal",
            sql: """
                ALTER TABLE api_idempotency_keys ADD COLUMN owner uuid;
                ALTER TABLE api_idempotency_keys ADD COLUMN renewed_at timestamptz NOT NULL DEFAULT now();
                """),
        // One webhook signing secret per tenant, derived from RENDC_WEBHOOK_SECRET and this generation (nothing
        // secret at rest); rotating raises it.
        Migration(
            version: 16, name: "tenant_webhook_secret_generation",
            sql: """
                ALTER TABLE tenants ADD COLUMN webhook_secret_generation integer NOT NULL DEFAULT 1
                    CHECK (webhook_secret_generation >= 1);
                """),
        // What the plan noted for the tenant (a merge field's text cut to fit its box, pictures repeated): a JSON array
        // of strings, no paths (unlike `plan`, which stays with operators).
        Migration(
            version: 17, name: "job_render_notes",
            sql: """
                ALTER TABLE video_processing_jobs ADD COLUMN render_notes jsonb;
                """),
    ]

    static let bootstrap = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version integer PRIMARY KEY,
            name text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """
}
