import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const MAX_LOG_LIMIT = 1000;

export class LogQueryDto {
  @ApiPropertyOptional({ type: 'integer', default: 1, minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'First position to read (1-based).' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number' })
  @Min(1, { message: 'must be at least 1' })
  @Max(Number.MAX_SAFE_INTEGER, { message: `must be at most ${Number.MAX_SAFE_INTEGER}` })
  from?: number;

  @ApiPropertyOptional({ type: 'integer', default: 100, minimum: 1, maximum: MAX_LOG_LIMIT, description: 'Most events to return.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number' })
  @Min(1, { message: 'must be at least 1' })
  @Max(MAX_LOG_LIMIT, { message: `must be at most ${MAX_LOG_LIMIT}` })
  limit?: number;
}
