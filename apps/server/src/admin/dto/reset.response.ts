import { ApiProperty } from '@nestjs/swagger';
import { Count } from '../../common/api-responses';

/** POST /v1/admin/reset: the store, now empty. */
export class ResetResponse {
  @ApiProperty({ example: 'file:./data', description: 'The event store\'s URL.' })
  store!: string;

  @Count({ example: 0, description: 'The head after the reset (0: empty).' })
  head!: number;
}
