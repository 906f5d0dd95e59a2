-- AlterTable
ALTER TABLE "AuditLog" ADD COLUMN     "actorId" TEXT;

-- AlterTable
ALTER TABLE "ApiToken" ADD COLUMN     "origin" TEXT NOT NULL DEFAULT 'api';

-- CreateTable
CREATE TABLE "SinkConnection" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "urlSealed" TEXT,
    "urlEnv" TEXT,
    "allowSchemaQualified" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdBy" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SinkConnection_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "SinkConnection_name_key" ON "SinkConnection"("name");

-- Bootstrap tokens registered before `origin` existed are recognisable by their prefix.
UPDATE "ApiToken" SET "origin" = 'bootstrap' WHERE "prefix" = '(env)';
