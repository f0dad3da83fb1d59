import { Type, type Static } from 'typebox';
import { Page, PageQuery, Str, StrictObject, Timestamp, Uuid } from '../../lib/schema.js';

export const CreateStatusCheckBody = StrictObject({
  client_name: Str({ minLength: 1, maxLength: 200, nonBlank: true }),
});
export type CreateStatusCheckInput = Static<typeof CreateStatusCheckBody>;

export const StatusCheckSchema = Type.Object(
  {
    id: Uuid,
    client_name: Type.String(),
    timestamp: Timestamp,
  },
  { $id: 'StatusCheck' },
);
export type StatusCheckDto = Static<typeof StatusCheckSchema>;

export const ListStatusChecksQuery = StrictObject({ ...PageQuery });
export type ListStatusChecksQueryInput = Static<typeof ListStatusChecksQuery>;

export const StatusCheckPage = Page(Type.Ref('StatusCheck'));
