import { Type, type Static } from 'typebox';
import { Page, PageQuery, StrictObject, Text, Timestamp, Uuid } from '../../lib/schema.js';

/** Multi-line text (newlines and tabs allowed, other control characters refused). */
const Content = Text({
  minLength: 1,
  maxLength: 20_000,
  description: 'The prompt text; never logged',
});

export const CreatePromptBody = StrictObject({ content: Content });
export type CreatePromptInput = Static<typeof CreatePromptBody>;

export const UpdatePromptBody = StrictObject({ content: Content });
export type UpdatePromptInput = Static<typeof UpdatePromptBody>;

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const PromptSchema = Type.Object(
  {
    id: Uuid,
    user_id: Uuid,
    content: Type.String(),
    response: nullable(
      Type.String({
        description:
          'The generated answer. Identifiers appear as placeholders ([PATIENT_1], [MRN_1], ...) unless the reader may see patient demographics',
      }),
    ),
    status: Type.Union(
      [Type.Literal('pending'), Type.Literal('completed'), Type.Literal('failed')],
      {
        description:
          '`pending` until a response is generated (forever when no LLM endpoint is configured), then `completed` or `failed`',
      },
    ),
    model: nullable(Type.String()),
    prompt_tokens: nullable(Type.Integer()),
    completion_tokens: nullable(Type.Integer()),
    latency_ms: nullable(Type.Integer()),
    error: nullable(Type.String({ description: 'Why generation failed (status `failed`)' })),
    version: Type.Integer(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'Prompt' },
);
export type PromptDto = Static<typeof PromptSchema>;

export const ListPromptsQuery = StrictObject({
  user_id: Type.Optional(
    Type.String({
      format: 'uuid',
      maxLength: 36,
      description: "Admins: this user's prompts (others: only their own id)",
    }),
  ),
  all: Type.Optional(Type.Boolean({ description: "Admins: every user's prompts" })),
  ...PageQuery,
});
export type ListPromptsQueryInput = Static<typeof ListPromptsQuery>;

export const PromptPage = Page(Type.Ref('Prompt'));
