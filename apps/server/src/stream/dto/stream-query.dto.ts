import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Min } from 'class-validator';

export class StreamQueryDto {
  @ApiPropertyOptional({ type: Number, minimum: 1, description: 'Start with the logged decisions from this position on (Last-Event-ID, when sent, wins).' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number' })
  @Min(1, { message: 'must be at least 1' })
  from?: number;
}
