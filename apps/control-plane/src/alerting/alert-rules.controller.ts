import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { actorOf, CurrentPrincipal, RequireRole, type Principal } from '../auth/auth.decorators';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { zodParam } from '../validation/zod-param';
import { AlertingApi } from './alerting-api.service';
import { alertRuleBody, ruleName, type AlertRuleBody } from './alerting.dto';
import { alertRuleSchema } from './alerting-responses.dto';

// A name that could never be a rule names nothing: 404 before any SQL.
const nameParam = {
  transform(value: unknown): string {
    const name = String(value);
    if (ruleName.safeParse(name).success) return name;
    throw new NotFoundException({ code: 'NOT_FOUND', message: 'alert rule not found' });
  },
};
const ApiRuleName = () => ApiParam({ name: 'name', description: 'Rule name', schema: { type: 'string' } });

@ApiTags('alerting')
@ApiBearerAuth()
@Controller('api/v1/alert-rules')
export class AlertRulesController {
  constructor(private readonly api: AlertingApi) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Every alert rule (the defaults are created on deploy)' })
  @ApiResponse({ status: 200, description: 'The rules', standardSchema: z.array(alertRuleSchema) })
  @ApiErrors(401, 403)
  list() {
    return this.api.rules();
  }

  @Post()
  @RequireRole('admin')
  @ApiOperation({ summary: 'Create an alert rule' })
  @ApiResponse({ status: 201, description: 'The rule', standardSchema: alertRuleSchema })
  @ApiErrors(400, 401, 403, [409, 'A rule with this name exists (ALERT_RULE_EXISTS)'], 413)
  create(@Body(zodParam(alertRuleBody)) body: AlertRuleBody, @CurrentPrincipal() who: Principal) {
    return this.api.createRule(body, actorOf(who));
  }

  @Get(':name')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'An alert rule' })
  @ApiRuleName()
  @ApiResponse({ status: 200, description: 'The rule', standardSchema: alertRuleSchema })
  @ApiErrors(401, 403, 404)
  get(@Param('name', nameParam) name: string) {
    return this.api.rule(name);
  }

  @Put(':name')
  @RequireRole('admin')
  @ApiOperation({ summary: 'Replace an alert rule (thresholds, for, severity, labels, annotations, scope)' })
  @ApiRuleName()
  @ApiResponse({ status: 200, description: 'The rule', standardSchema: alertRuleSchema })
  @ApiErrors(400, 401, 403, 404, 413, [422, 'The body names another rule (VALIDATION_FAILED)'])
  replace(
    @Param('name', nameParam) name: string,
    @Body(zodParam(alertRuleBody)) body: AlertRuleBody,
    @CurrentPrincipal() who: Principal,
  ) {
    return this.api.replaceRule(name, body, actorOf(who));
  }

  @Delete(':name')
  @HttpCode(204)
  @RequireRole('admin')
  @ApiOperation({ summary: 'Delete an alert rule (its firing alerts resolve at the next evaluation)' })
  @ApiRuleName()
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiErrors(401, 403, 404)
  async remove(@Param('name', nameParam) name: string, @CurrentPrincipal() who: Principal) {
    await this.api.deleteRule(name, actorOf(who));
  }
}
