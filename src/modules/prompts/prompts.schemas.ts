import { Type, type Static } from 'typebox';
import {
  Nullable,
  Page,
  PageQuery,
  StrictObject,
  Text,
  Timestamp,
  Uuid,
} from '../../lib/schema.js';

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

export const PromptSchema = Type.Object(
  {
    id: Uuid,
    user_id: Uuid,
    content: Type.String(),
    response: Nullable(
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
    model: Nullable(Type.String()),
    prompt_tokens: Nullable(Type.Integer()),
    completion_tokens: Nullable(Type.Integer()),
    latency_ms: Nullable(Type.Integer()),
    error: Nullable(Type.String({ description: 'Why generation failed (status `failed`)' })),
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
