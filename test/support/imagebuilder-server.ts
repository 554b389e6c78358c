import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the Image Builder API on 127.0.0.1 (moto has none), for code that cannot take a
 * mocked client: a bundle run in a child process. It answers the REST-JSON operations the functions
 * send (https://docs.aws.amazon.com/imagebuilder/latest/APIReference/) and records each request.
 */
export interface ImageBuilderServer {
  endpoint: string;
  requests: Array<{ method: string; path: string; query: Record<string, string>; body: unknown }>;
  close(): Promise<void>;
}

const BUILD_ARN = 'arn:aws:imagebuilder:eu-west-1:123456789012:image/ew-bundle-worker/1.0.0/7';

export async function startImageBuilderServer(): Promise<ImageBuilderServer> {
  const requests: ImageBuilderServer['requests'] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      requests.push({
        method: request.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body,
      });
      const answer = (status: number, payload: unknown) => {
        response.statusCode = status;
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify(payload));
      };
      const route = `${request.method} ${url.pathname}`;
      if (route === 'PUT /StartImagePipelineExecution')
        return answer(200, {
          requestId: 'r',
          clientToken: body.clientToken,
          imageBuildVersionArn: BUILD_ARN,
        });
      if (route === 'POST /ListImagePipelineImages')
        return answer(200, { requestId: 'r', imageSummaryList: [] });
      if (route === 'DELETE /DeleteImage')
        return answer(200, {
          requestId: 'r',
          imageBuildVersionArn: url.searchParams.get('imageBuildVersionArn'),
        });
      response.setHeader('x-amzn-errortype', 'InvalidRequestException');
      return answer(400, { message: `the stand-in does not answer ${route}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
