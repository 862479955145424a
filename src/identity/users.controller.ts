import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentCaller, type Caller } from '../tenancy/caller';
import { AccountService } from './account.service';
import {
  CreateUserDto,
  InviteUserDto,
  ListUsersQuery,
  UpdateUserDto,
  UserPage,
  UserResponse,
} from './dto/user.dto';
import { EmailRateLimitGuard } from './email-rate-limit.guard';
import { toUserResponse } from './user-response';
import { UsersService } from './users.service';

@ApiTags('users')
@ApiBearerAuth()
@Controller('users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly account: AccountService,
  ) {}

  @Get()
  @ApiOkResponse({ type: UserPage })
  list(@CurrentCaller() caller: Caller, @Query() query: ListUsersQuery) {
    return this.users.list(caller, query);
  }

  @Post()
  @HttpCode(201)
  @ApiCreatedResponse({ type: UserResponse })
  async create(@CurrentCaller() caller: Caller, @Body() dto: CreateUserDto) {
    return toUserResponse(await this.users.create(caller, dto));
  }

  /** An inactive, unverified user and a mailed single-use link; inviting a pending
   *  invitee again replaces the link. */
  @UseGuards(EmailRateLimitGuard)
  @Post('invitations')
  @HttpCode(201)
  @ApiCreatedResponse({ type: UserResponse })
  async invite(@CurrentCaller() caller: Caller, @Body() dto: InviteUserDto) {
    return toUserResponse(await this.account.invite(caller, dto));
  }

  @Get(':id')
  @ApiOkResponse({ type: UserResponse })
  async get(@CurrentCaller() caller: Caller, @Param('id', ParseUUIDPipe) id: string) {
    return toUserResponse(await this.users.get(caller, id));
  }

  @Patch(':id')
  @ApiOkResponse({ type: UserResponse })
  async update(
    @CurrentCaller() caller: Caller,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: UpdateUserDto,
  ) {
    return toUserResponse(await this.users.update(caller, id, dto));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  async remove(@CurrentCaller() caller: Caller, @Param('id', ParseUUIDPipe) id: string) {
    await this.users.deactivate(caller, id);
  }
}
