import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

export const OPENAPI_JSON_PATH = '/api/v1/openapi.json';

/** Schemas written as plain JSON Schema rather than DTO classes (the entity
 *  configuration blocks), published under components.schemas. */
const extraSchemas = new Map<string, object>();

export function registerOpenApiSchemas(schemas: Record<string, object>): void {
  for (const [name, schema] of Object.entries(schemas)) extraSchemas.set(name, structuredClone(schema));
}

/** A reference to a registered schema, for @ApiProperty({ allOf: [...] }). */
export const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('HireBuddha API')
    .setDescription(
      'Hierarchical AI agents for many tenants: entities, runs, human approvals, usage. ' +
        'Errors are RFC 9457 application/problem+json with a stable `code` and the `requestId`.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components = { ...document.components, schemas: { ...document.components?.schemas } };
  for (const [name, schema] of extraSchemas) document.components.schemas![name] = structuredClone(schema);
  return document;
}

/** Serves the document at /api/v1/openapi.json and Swagger UI at /docs. */
export function mountOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    useGlobalPrefix: false,
    jsonDocumentUrl: OPENAPI_JSON_PATH,
    raw: ['json'],
  });
}
