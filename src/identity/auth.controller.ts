import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../infra/http/public';
import { CurrentCaller, type Caller } from '../tenancy/caller';
import { AuthService } from './auth.service';
import { ChangePasswordDto, LoginDto, MeResponse, RefreshDto, TokenPairResponse } from './dto/auth.dto';
import { LoginThrottleGuard } from './login-throttle.guard';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @UseGuards(LoginThrottleGuard)
  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairResponse })
  login(@Body() dto: LoginDto) {
    return this.auth.login(dto.email, dto.password);
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairResponse })
  refresh(@Body() dto: RefreshDto) {
    return this.auth.refresh(dto.refreshToken);
  }

  @ApiBearerAuth()
  @Post('logout')
  @HttpCode(204)
  @ApiNoContentResponse()
  logout(@CurrentCaller() caller: Caller, @Body() dto: RefreshDto) {
    return this.auth.logout(caller, dto.refreshToken);
  }

  @ApiBearerAuth()
  @Get('me')
  @ApiOkResponse({ type: MeResponse })
  me(@CurrentCaller() caller: Caller) {
    return this.auth.me(caller);
  }

  @ApiBearerAuth()
  @Post('change-password')
  @HttpCode(204)
  @ApiNoContentResponse()
  changePassword(@CurrentCaller() caller: Caller, @Body() dto: ChangePasswordDto) {
    return this.auth.changePassword(caller, dto);
  }
}
