import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { ConfigurationError } from "@musicpipe/core";
import { SignatureV4 } from "@smithy/signature-v4";
import {
  type DagTriggerHttpOptions,
  type HttpResult,
  type Outcome,
  type ResolvedHttpOptions,
  send,
} from "./http.js";

/** AWS credentials, as the AWS SDK's credential providers return them. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  readonly expiration?: Date | undefined;
}

/** Returns current credentials; `fromNodeProviderChain()` of `@aws-sdk/credential-providers` is one. */
export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

/** Options of the MWAA triggers: the environment and how to call the MWAA API. */
export interface MwaaApiOptions extends DagTriggerHttpOptions {
  /** The MWAA environment's name (not its ARN). */
  readonly environmentName: string;
  /**
   * The environment's region.
   * @default process.env.AWS_REGION, else process.env.AWS_DEFAULT_REGION
   */
  readonly region?: string | undefined;
  /**
   * Credentials that sign the MWAA API calls (SigV4, service `airflow`), or a provider of them.
   * @default `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, read at
   *   each call: what Lambda gives a function. Elsewhere pass `fromNodeProviderChain()`.
   */
  readonly credentials?: AwsCredentials | AwsCredentialsProvider | undefined;
  /**
   * The MWAA API endpoint for environment operations (CreateCliToken, InvokeRestApi).
   * @default `https://env.airflow.${region}.amazonaws.com`
   */
  readonly endpoint?: string | undefined;
}

/** {@link MwaaApiOptions} checked. */
export interface ResolvedMwaaApi {
  readonly environmentName: string;
  readonly region: string;
  readonly endpoint: string;
  readonly signer: SignatureV4;
}

/** MWAA environment names: a letter, then letters, digits, `-` and `_`; at most 80. */
const ENVIRONMENT_NAME = /^[A-Za-z][0-9A-Za-z_-]{0,79}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** Checks the MWAA options and builds the request signer. */
export function resolveMwaaApi(factory: string, options: MwaaApiOptions): ResolvedMwaaApi {
  const { environmentName } = options;
  if (typeof environmentName !== "string" || !ENVIRONMENT_NAME.test(environmentName)) {
    throw new ConfigurationError(
      `${factory}: 'environmentName' must be an MWAA environment name (${ENVIRONMENT_NAME}), got '${String(environmentName)}'`,
    );
  }
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (typeof region !== "string" || !REGION.test(region)) {
    throw new ConfigurationError(
      `${factory}: 'region' (or AWS_REGION) must be an AWS region like eu-west-1, got '${String(region)}'`,
    );
  }
  const endpoint = options.endpoint ?? `https://env.airflow.${region}.amazonaws.com`;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new ConfigurationError(`${factory}: 'endpoint' is not a URL`);
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.username !== "" || url.search !== "") {
    throw new ConfigurationError(
      `${factory}: 'endpoint' must be an http(s) URL without credentials or query`,
    );
  }
  const credentials = resolveCredentials(factory, options.credentials);
  const signer = new SignatureV4({
    service: "airflow",
    region,
    credentials: async () => {
      const { accessKeyId, secretAccessKey, sessionToken } =
        typeof credentials === "function" ? await credentials() : credentials;
      return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
    },
    sha256: NodeSha256,
  });
  return { environmentName, region, endpoint: `${url.origin}${url.pathname.replace(/\/+$/, "")}`, signer };
}

function resolveCredentials(
  factory: string,
  credentials: MwaaApiOptions["credentials"],
): AwsCredentials | AwsCredentialsProvider {
  if (typeof credentials === "function") return credentials;
  if (credentials !== undefined) {
    if (
      typeof credentials !== "object" ||
      typeof credentials.accessKeyId !== "string" ||
      typeof credentials.secretAccessKey !== "string"
    ) {
      throw new ConfigurationError(
        `${factory}: 'credentials' must be { accessKeyId, secretAccessKey, sessionToken? } or a provider function`,
      );
    }
    return credentials;
  }
  if (!process.env.AWS_ACCESS_KEY_ID || !process.env.AWS_SECRET_ACCESS_KEY) {
    throw new ConfigurationError(
      `${factory}: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (Lambda does) or pass 'credentials'`,
    );
  }
  // Read at each call, so rotated credentials in the environment are picked up.
  return async () => {
    const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey)
      throw new Error("AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is not set");
    const sessionToken = process.env.AWS_SESSION_TOKEN;
    return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
  };
}

/**
 * `POST {endpoint}{path}` with a JSON body, SigV4-signed for service `airflow`. Signed anew on
 * each call, so a retry carries a fresh date.
 */
export async function signedPost(
  http: ResolvedHttpOptions,
  api: ResolvedMwaaApi,
  path: string,
  body: string,
): Promise<HttpResult | Extract<Outcome, { kind: "retry" }>> {
  const url = new URL(`${api.endpoint}${path}`);
  let signed: { headers: Record<string, string> };
  try {
    signed = await api.signer.sign({
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port === "" ? {} : { port: Number(url.port) }),
      path: url.pathname,
      query: {},
      headers: { host: url.host, "content-type": "application/json" },
      body,
    });
  } catch (error) {
    // A credential provider that failed (instance metadata unreachable, say): try again.
    return { kind: "retry", reason: "could not get AWS credentials to sign the request", cause: error };
  }
  // fetch sets Host itself, to the same value that was signed.
  const { host: _host, ...headers } = signed.headers;
  return send(http, url.href, { method: "POST", headers: { ...headers, accept: "application/json" }, body });
}

/** The error type of an AWS JSON error response: `x-amzn-errortype` or `__type`, without namespace. */
export function awsErrorType(
  result: HttpResult,
  body: Record<string, unknown> | undefined,
): string | undefined {
  const raw =
    result.headers.get("x-amzn-errortype") ?? (typeof body?.__type === "string" ? body.__type : undefined);
  if (raw === undefined || raw === null) return undefined;
  const name = raw.split(":")[0] ?? raw;
  return name.slice(name.lastIndexOf("#") + 1);
}

/** SHA-256 and HMAC-SHA-256 over node:crypto, in the shape the SigV4 signer wants. */
class NodeSha256 {
  readonly #secret: string | ArrayBuffer | ArrayBufferView | undefined;
  #hash: Hash | Hmac;

  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#secret = secret;
    this.#hash = NodeSha256.#create(secret);
  }

  static #create(secret: string | ArrayBuffer | ArrayBufferView | undefined): Hash | Hmac {
    return secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(secret));
  }

  update(data: string | ArrayBuffer | ArrayBufferView, encoding?: "utf8" | "ascii" | "latin1"): void {
    if (typeof data === "string") this.#hash.update(data, encoding ?? "utf8");
    else this.#hash.update(bytes(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }

  reset(): void {
    this.#hash = NodeSha256.#create(this.#secret);
  }
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): Uint8Array {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}
